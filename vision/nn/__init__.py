"""Neural-network building blocks: activations, conv blocks, recurrent encoders (RNN / LSTM / GRU, attention, a temporal
transformer, truncated BPTT), weight initialisation, losses, regularisation helpers."""

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
from vision.nn.recurrent import (
    RECURRENT_KINDS,
    Attention,
    RecurrentEncoder,
    TemporalTransformer,
    input_gradient_norm,
    tbptt_chunks,
    truncated_bptt,
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
    "RECURRENT_KINDS",
    "Attention",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "ConvBNAct",
    "Huber",
    "InceptionModule",
    "Maxout",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "RecurrentEncoder",
    "ResidualBlock",
    "SeparableConv",
    "TemporalTransformer",
    "XceptionBlock",
    "clip_gradients",
    "count_parameters",
    "freeze_batchnorm",
    "init_weights",
    "input_gradient_norm",
    "l1_penalty",
    "l2_penalty",
    "make_activation",
    "make_loss",
    "tbptt_chunks",
    "truncated_bptt",
    "unfreeze_batchnorm",
]
