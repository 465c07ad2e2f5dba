"""Neural-network building blocks: activations, conv blocks, weight initialisation, losses, regularisation helpers."""

from vision.nn.activations import ACTIVATIONS, Maxout, make_activation
from vision.nn.blocks import (
    ConvBNAct,
    InceptionModule,
    ResidualBlock,
    SeparableConv,
    XceptionBlock,
)
from vision.nn.init import INIT_SCHEMES, init_weights
from vision.nn.losses import (
    LOSSES,
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    make_loss,
)
from vision.nn.regularization import (
    clip_gradients,
    count_parameters,
    freeze_batchnorm,
    l1_penalty,
    l2_penalty,
    unfreeze_batchnorm,
)

__all__ = [
    "ACTIVATIONS",
    "INIT_SCHEMES",
    "LOSSES",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "ConvBNAct",
    "Huber",
    "InceptionModule",
    "Maxout",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "ResidualBlock",
    "SeparableConv",
    "XceptionBlock",
    "clip_gradients",
    "count_parameters",
    "freeze_batchnorm",
    "init_weights",
    "l1_penalty",
    "l2_penalty",
    "make_activation",
    "make_loss",
    "unfreeze_batchnorm",
]
