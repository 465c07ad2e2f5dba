"""Weight initialisation of Conv/Linear layers (He, Xavier/Glorot, LeCun) over ``torch.nn.init``, chosen by activation.

Formulas (``fan_in`` / ``fan_out`` as ``torch.nn.init`` computes them: in/out features × kernel size):

==================  =====================================================
scheme              weights
==================  =====================================================
``he_normal``       N(0, std²), ``std = gain / sqrt(fan_in)``, ``gain = sqrt(2 / (1 + a²))``
``he_uniform``      U(−b, b), ``b = gain · sqrt(3 / fan_in)``
``xavier_normal``   N(0, std²), ``std = sqrt(2 / (fan_in + fan_out))``
``xavier_uniform``  U(−b, b), ``b = sqrt(6 / (fan_in + fan_out))``
``lecun_normal``    N(0, std²), ``std = 1 / sqrt(fan_in)``
``lecun_uniform``   U(−b, b), ``b = sqrt(3 / fan_in)``
==================  =====================================================

``a`` is the negative slope of a leaky ReLU / PReLU activation (0 otherwise). Xavier uses gain 1 (Glorot & Bengio,
as Keras does, not ``torch.nn.init.calculate_gain('tanh')``). LeCun is ``kaiming_*_(nonlinearity='linear')``:
fan-in scaling with gain 1. The normal variants are plain (not truncated) normals, as in torch. Biases are set to 0.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from vision.errors import InputError
from vision.nn.activations import ACTIVATIONS, Maxout, make_activation

__all__ = ["INIT_SCHEMES", "init_weights"]

_log = logging.getLogger(__name__)

#: every scheme ``init_weights`` accepts
INIT_SCHEMES: tuple[str, ...] = (
    "auto",
    "he_normal",
    "he_uniform",
    "xavier_normal",
    "xavier_uniform",
    "lecun_normal",
    "lecun_uniform",
)

_WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
# activation families for scheme="auto"
_HE_FAMILY = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Hardswish,
              Maxout)  # maxout is piecewise linear like ReLU
_XAVIER_FAMILY = (nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardsigmoid, nn.Softsign, nn.Softmax, nn.LogSoftmax, nn.Identity)
_LECUN_FAMILY = (nn.SELU,)
_ACTIVATION_TYPES = _HE_FAMILY + _XAVIER_FAMILY + _LECUN_FAMILY


def _as_module(activation: str | nn.Module | type[nn.Module]) -> nn.Module:
    """Turn an activation given as a name, class or instance into an instance we can classify."""
    if isinstance(activation, str):
        if activation.strip().lower() == "maxout":
            return Maxout(1, 1)  # only its type matters here
        return make_activation(activation)
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        try:
            return activation()
        except TypeError as exc:
            raise InputError(f"activation class {activation.__name__} cannot be built without arguments; "
                             "pass an instance instead") from exc
    if isinstance(activation, nn.Module):
        return activation
    raise InputError(f"activation must be a name, an nn.Module class or instance, got {type(activation).__name__}")


def _negative_slope(act: nn.Module) -> float:
    if isinstance(act, nn.LeakyReLU):
        return float(act.negative_slope)
    if isinstance(act, nn.PReLU):
        return float(act.weight.detach().mean())
    return 0.0


def _auto_scheme(act: nn.Module | None) -> str:
    if act is None or isinstance(act, _XAVIER_FAMILY):
        return "xavier"
    if isinstance(act, _LECUN_FAMILY):
        return "lecun"
    if isinstance(act, _HE_FAMILY):
        return "he"
    raise InputError(
        f"scheme='auto' has no rule for activation {type(act).__name__}; expected one of the names {list(ACTIVATIONS)} "
        f"or a module of type {sorted({t.__name__ for t in _ACTIVATION_TYPES})}, or pass an explicit scheme"
    )


def _init_layer(layer: nn.Module, scheme: str, distribution: str, act: nn.Module | None,
                generator: torch.Generator | None) -> None:
    weight = layer.weight
    init = nn.init
    if scheme == "he":
        slope = _negative_slope(act) if act is not None else 0.0
        nonlinearity = "leaky_relu" if slope else "relu"
        fn = init.kaiming_normal_ if distribution == "normal" else init.kaiming_uniform_
        fn(weight, a=slope, mode="fan_in", nonlinearity=nonlinearity, generator=generator)
    elif scheme == "lecun":
        fn = init.kaiming_normal_ if distribution == "normal" else init.kaiming_uniform_
        fn(weight, mode="fan_in", nonlinearity="linear", generator=generator)
    else:  # xavier
        fn = init.xavier_normal_ if distribution == "normal" else init.xavier_uniform_
        fn(weight, gain=1.0, generator=generator)
    if layer.bias is not None:
        init.zeros_(layer.bias)


def init_weights(
    module: nn.Module,
    *,
    scheme: str = "auto",
    activation: str | nn.Module | type[nn.Module] | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Initialise every Conv/Linear layer of ``module`` in place (weights by ``scheme``, biases 0); other layers untouched.

    With ``scheme="auto"`` the scheme follows the activation: ReLU family (ReLU, LeakyReLU, PReLU, ELU, GELU,
    SiLU/Swish, Mish, …) → He, tanh/sigmoid/softmax/none → Xavier, SELU → LeCun; the distribution is normal. If
    ``activation`` is given it decides for every layer; if it is None, each layer takes the first activation *module*
    registered after it (``nn.Sequential`` order), and layers after the last activation (linear outputs) get Xavier.
    Activations called functionally (``F.relu`` in ``forward``) are invisible: pass ``activation=`` then.
    BatchNorm/LayerNorm and other layers keep their own initialisation (BN: weight 1, bias 0).

    Args:
        module: the model or layer to initialise.
        scheme: one of :data:`INIT_SCHEMES`.
        activation: activation name (see ``make_activation``), class or instance; for He it also gives the negative
            slope of LeakyReLU/PReLU.
        generator: optional ``torch.Generator`` for reproducible draws.

    Returns:
        ``module`` (initialised in place).

    Raises:
        InputError: unknown scheme, unknown activation, lazy layers not yet materialised, ``module`` not a Module.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
        >>> _ = net(torch.zeros(1, 3, 8, 8))  # materialise the lazy layer
        >>> _ = init_weights(net)  # conv → He (ReLU follows), last linear → Xavier
    """
    if not isinstance(module, nn.Module):
        raise InputError(f"init_weights expects an nn.Module, got {type(module).__name__}")
    if scheme not in INIT_SCHEMES:
        raise InputError(f"unknown init scheme {scheme!r}; expected one of {list(INIT_SCHEMES)}")
    fixed_act = _as_module(activation) if activation is not None else None

    # pair each weight layer with its activation (the fixed one, or the next activation module in registration order)
    plan: list[tuple[str, nn.Module, nn.Module | None]] = []
    pending: list[tuple[str, nn.Module]] = []
    for name, sub in module.named_modules():
        if isinstance(sub, _WEIGHT_LAYERS):
            if fixed_act is not None:
                plan.append((name, sub, fixed_act))
            else:
                pending.append((name, sub))
        elif fixed_act is None and isinstance(sub, _ACTIVATION_TYPES) and not isinstance(sub, nn.Identity):
            plan.extend((n, layer, sub) for n, layer in pending)
            pending.clear()
    plan.extend((n, layer, None) for n, layer in pending)
    for name, layer, act in plan:  # check everything before writing anything
        if isinstance(layer.weight, nn.parameter.UninitializedParameter):
            raise InputError(f"layer {name or '<root>'!r} ({type(layer).__name__}) has uninitialised (lazy) weights; "
                             "run one forward pass before init_weights")
        if scheme == "auto":
            _auto_scheme(act)

    for name, layer, act in plan:
        if scheme == "auto":
            family, distribution = _auto_scheme(act), "normal"
        else:
            family, distribution = scheme.split("_")
        _init_layer(layer, family, distribution, act, generator)
        _log.debug("init %s (%s): %s_%s", name or "<root>", type(layer).__name__, family, distribution)
    return module
