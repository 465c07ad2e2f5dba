"""Seeing inside a CNN: the first layer's filters and the feature maps each layer produces for one image.

* :func:`first_layer_filters` — the kernels of the model's first ``Conv2d`` as a grid of small images.
* :func:`feature_maps` — ``{layer name: grid of that layer's output channels}`` for one input, captured with
  forward hooks (always removed again, even when the forward pass fails).
* :func:`feature_map_sheet` — the input and one row per layer, each captioned with the layer's name and output
  shape, as one picture (and PNG).

Every map is min-max scaled on its own and drawn with the viridis colour map (dark: low, yellow: high), so a map
that is constant shows as one flat colour. Works for any ``torch.nn.Module`` with a ``Conv2d``: e.g.
``vision.models.create_model("fmnist-cnn")`` on 28×28 gray images or ``torchvision.models.resnet18(weights=None)``
on 224×224 RGB.

Example:
    >>> filters = first_layer_filters(model)                         # H×W×3 uint8
    >>> maps = feature_maps(model, image, max_maps=8)                # {"features.0": H×W×3 uint8, ...}
    >>> sheet = feature_map_sheet(model, image, path="maps.png")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import DTypeError, InputError, ShapeError

__all__ = ["conv_layers", "default_layers", "feature_map_sheet", "feature_maps", "first_layer_filters"]

_MAX_DEFAULT_CONVS = 12
_TEXT = (30, 30, 30)


def _check_model(model: Any) -> Any:
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InputError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    return model


def conv_layers(model: Any) -> list[tuple[str, Any]]:
    """The model's ``Conv2d`` modules as ``(name, module)`` in definition order (names as ``named_modules``).

    Raises:
        InputError: ``model`` is not a ``torch.nn.Module``.
    """
    import torch

    _check_model(model)
    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]


def _require_convs(model: Any, what: str) -> list[tuple[str, Any]]:
    convs = conv_layers(model)
    if not convs:
        raise InputError(f"{what}: {type(model).__name__} has no Conv2d layer; expected a convolutional network")
    return convs


def default_layers(model: Any) -> list[str]:
    """The layers :func:`feature_maps` shows by default.

    Every ``Conv2d`` when the model has at most 12, otherwise every top-level block that is or holds a ``Conv2d``
    (for a ResNet: ``conv1``, ``layer1`` … ``layer4``).

    Raises:
        InputError: not a module, or no ``Conv2d``.
    """
    import torch

    convs = _require_convs(model, "default_layers")
    if len(convs) <= _MAX_DEFAULT_CONVS:
        return [n for n, _ in convs]
    return [n for n, m in model.named_children()
            if isinstance(m, torch.nn.Conv2d) or any(isinstance(s, torch.nn.Conv2d) for s in m.modules())]


# --------------------------------------------------------------------------------------------------
# drawing helpers
def _caption(text: str, width: int, *, scale: float = 0.5, pad: int = 6) -> np.ndarray:
    """A white strip ``width`` wide with ``text`` in dark gray (ASCII; cut with '...' if too long)."""
    import cv2

    text = text.encode("ascii", "replace").decode("ascii")
    thick = 1
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    while tw > width - 2 * pad and len(text) > 4:
        text = text[:-4] + "..."
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    strip = np.full((th + base + 2 * pad, width, 3), 255, np.uint8)
    cv2.putText(strip, text, (pad, pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, _TEXT, thick, cv2.LINE_AA)
    return strip


def _text_width(text: str, *, scale: float = 0.5) -> int:
    import cv2

    return int(cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0])


def _stack(parts: Sequence[np.ndarray], *, gap: int = 4) -> np.ndarray:
    """Stack RGB images vertically on white, left-aligned, ``gap`` pixels apart."""
    width = max(p.shape[1] for p in parts)
    height = sum(p.shape[0] for p in parts) + gap * (len(parts) - 1)
    out = np.full((height, width, 3), 255, np.uint8)
    y = 0
    for p in parts:
        out[y:y + p.shape[0], :p.shape[1]] = p
        y += p.shape[0] + gap
    return out


def _minmax(a: np.ndarray) -> np.ndarray:
    """``a`` scaled to 0–255 uint8 by its own min and max (a constant array → 0)."""
    a = a.astype(np.float32)
    lo, hi = float(a.min()), float(a.max())
    if not math.isfinite(lo) or not math.isfinite(hi) or hi - lo < 1e-12:
        return np.zeros(a.shape, np.uint8)
    return np.round((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _viridis(gray: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.applyColorMap(gray, cv2.COLORMAP_VIRIDIS), cv2.COLOR_BGR2RGB)


def _upscale(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor (crisp pixels for small kernels and maps)."""
    if factor <= 1:
        return img
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def _grid(cells: Sequence[np.ndarray], cols: int, *, gap: int = 2, background: int = 255) -> np.ndarray:
    """Equal-sized RGB cells laid out ``cols`` per row."""
    h, w = cells[0].shape[:2]
    rows = -(-len(cells) // cols)
    out = np.full((rows * h + (rows + 1) * gap, cols * w + (cols + 1) * gap, 3), background, np.uint8)
    for k, c in enumerate(cells):
        r, q = divmod(k, cols)
        y, x = gap + r * (h + gap), gap + q * (w + gap)
        out[y:y + h, x:x + w] = c
    return out


# --------------------------------------------------------------------------------------------------
def first_layer_filters(model: Any, *, path: str | Path | None = None, min_px: int = 24) -> np.ndarray:
    """The kernels of the model's first ``Conv2d`` as an image grid with a caption.

    Each kernel is min-max scaled on its own: as RGB when the layer takes 3 channels, otherwise its channel 0 in
    gray. Kernels are enlarged (nearest neighbour) to at least ``min_px`` pixels a side.

    Args:
        model: any ``torch.nn.Module`` with a ``Conv2d``.
        path: also write the image there (via :func:`vision.io.write_image`).
        min_px: the smallest drawn kernel side in pixels (≥ 1).
    Returns:
        H×W×3 uint8 RGB.
    Raises:
        InputError: not a module, no ``Conv2d``, or ``min_px`` < 1.
    """
    if isinstance(min_px, bool) or not isinstance(min_px, (int, np.integer)) or min_px < 1:
        raise InputError(f"min_px: expected an integer ≥ 1, got {min_px!r}")
    name, conv = _require_convs(model, "first_layer_filters")[0]
    w = conv.weight.detach().float().cpu().numpy()  # out × in/groups × kh × kw
    out_ch, in_ch, kh, kw = w.shape
    rgb = in_ch == 3
    factor = max(1, math.ceil(min_px / min(kh, kw)))
    cols = max(1, math.ceil(math.sqrt(out_ch)))
    # enlarge further so the caption has room (at least ~360 px across) without blurring kernels
    while cols * (kw * factor + 2) < 360 and kw * factor < 96:
        factor += 1
    cells = []
    for k in range(out_ch):
        kernel = w[k].transpose(1, 2, 0) if rgb else w[k, 0]
        img = _minmax(kernel)
        if not rgb:
            img = np.repeat(img[..., None], 3, axis=2)
        cells.append(_upscale(img, factor))
    grid = _grid(cells, cols, gap=4, background=255)
    what = "RGB" if rgb else ("gray" if in_ch == 1 else f"channel 0 of {in_ch}")
    text = f"first conv '{name}': {out_ch} filters {kh}x{kw} ({what})"
    sheet = _stack([_caption(text, max(grid.shape[1], _text_width(text) + 12)), grid], gap=0)
    if path is not None:
        from vision.io import write_image

        write_image(path, sheet)
    return sheet


def _input_tensor(model: Any, image: Any, in_channels: int, *, size: Any, normalize: Any) -> Any:
    """``image`` (tensor or numpy image) as a 1×C×H×W float tensor on the model's device."""
    import torch

    try:
        p = next(model.parameters())
        device, dtype = p.device, p.dtype if p.dtype.is_floating_point else torch.float32
    except StopIteration:  # pragma: no cover - a model with a Conv2d has parameters
        device, dtype = torch.device("cpu"), torch.float32
    if isinstance(image, torch.Tensor):
        x = image.detach()
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[0] != 1:
            raise ShapeError(f"image: expected a C×H×W or 1×C×H×W tensor, got shape {tuple(image.shape)}")
        if not x.is_floating_point():
            raise DTypeError(f"image: expected a float tensor (as the model takes it), got {x.dtype}")
        if x.shape[1] != in_channels:
            raise ShapeError(f"image: the model's first Conv2d takes {in_channels} channel(s), got a tensor with "
                             f"{x.shape[1]} (shape {tuple(image.shape)})")
        return x.to(device=device, dtype=dtype)
    if not isinstance(image, np.ndarray):
        raise InputError(f"image: expected a numpy H×W×3 uint8 RGB / H×W gray image or a torch tensor, got "
                         f"{type(image).__name__}")
    import cv2

    from vision.classic.validate import check_image

    image = check_image(image, name="image")
    if in_channels not in (1, 3):
        raise ShapeError(f"image: the model's first Conv2d takes {in_channels} channels; pass a 1×{in_channels}×H×W "
                         "tensor instead of an image")
    img = image
    if in_channels == 1 and img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    elif in_channels == 3 and img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if size is not None:
        from vision.data.augment import _check_size

        h, w = _check_size(size)
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if h * w < img.shape[0] * img.shape[1]
                         else cv2.INTER_LINEAR)
    arr = img.astype(np.float32) / 255.0
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    if normalize is not None:
        if not isinstance(normalize, (tuple, list)) or len(normalize) != 2:
            raise InputError(f"normalize: expected (mean, std), got {normalize!r}")
        mean = np.broadcast_to(np.asarray(normalize[0], np.float32).reshape(-1), (in_channels,))
        std = np.broadcast_to(np.asarray(normalize[1], np.float32).reshape(-1), (in_channels,))
        if np.any(std <= 0):
            raise InputError(f"normalize: std must be > 0, got {std.tolist()}")
        arr = (arr - mean[:, None, None]) / std[:, None, None]
    return torch.from_numpy(np.ascontiguousarray(arr))[None].to(device=device, dtype=dtype)


def _capture(model: Any, x: Any, names: list[str]) -> dict[str, Any]:
    """Run ``model(x)`` with forward hooks on ``names``; return ``{name: output of sample 0}`` (hooks removed)."""
    import torch

    modules = dict(model.named_modules())
    captured: dict[str, Any] = {}
    handles = []

    def hook_for(name: str) -> Any:
        def hook(_module: Any, _inputs: Any, output: Any) -> None:
            out = output
            if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
                out = out[0]
            if isinstance(out, torch.Tensor):
                captured[name] = out.detach()[0].float().cpu().clone()  # clone: later in-place ops change it
        return hook

    was_training = model.training
    try:
        for n in names:
            handles.append(modules[n].register_forward_hook(hook_for(n)))
        model.eval()
        with torch.no_grad():
            try:
                model(x)
            except RuntimeError as exc:
                raise ShapeError(f"feature_maps: the model failed on an input of shape {tuple(x.shape)}: "
                                 f"{str(exc).splitlines()[0]}") from exc
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return captured


def _layer_grid(fmap: Any, name: str, max_maps: int, *, cell: int) -> tuple[np.ndarray, str]:
    """One layer's most varied ``max_maps`` channels as a row grid, and its caption text."""
    if fmap.ndim != 3:
        raise InputError(f"feature_maps: layer {name!r} outputs shape {tuple(fmap.shape)} per sample, not a feature "
                         "map (expected C×H×W); pick convolutional layers or blocks")
    arr = fmap.numpy()
    c, h, w = arr.shape
    spread = arr.reshape(c, -1).std(axis=1)
    keep = np.sort(np.argsort(-spread, kind="stable")[:max_maps])
    factor = max(1, math.ceil(cell / max(h, w)))  # nearest enlargement, then area down to the cell: crisp, equal rows
    cells = []
    for k in keep:
        img = _upscale(_viridis(_minmax(arr[k])), factor)
        if max(img.shape[:2]) > cell:  # shrink big maps to the cell
            import cv2

            s = cell / max(img.shape[:2])
            img = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                             interpolation=cv2.INTER_AREA)
        cells.append(img)
    grid = _grid(cells, len(cells), gap=2)
    shown = "all" if len(keep) == c else f"{len(keep)} most varied"
    text = f"{name}: {c}x{h}x{w} ({shown} of {c} maps; ch {', '.join(str(int(k)) for k in keep[:8])}"
    text += ", ...)" if len(keep) > 8 else ")"
    return grid, text


def _prepare(model: Any, image: Any, layers: Any, max_maps: Any, size: Any, normalize: Any) -> tuple[Any, list[str]]:
    _check_model(model)
    convs = _require_convs(model, "feature_maps")
    if isinstance(max_maps, bool) or not isinstance(max_maps, (int, np.integer)) or max_maps < 1:
        raise InputError(f"max_maps: expected an integer ≥ 1, got {max_maps!r}")
    if layers is None:
        names = default_layers(model)
    else:
        if isinstance(layers, str):
            layers = [layers]
        names = [str(n) for n in layers]
        if not names:
            raise InputError("layers: expected at least one layer name (or None for the defaults), got none")
        known = {n for n, _ in model.named_modules() if n}
        missing = [n for n in names if n not in known]
        if missing:
            available = [n for n, _ in model.named_modules() if n]
            shown = ", ".join(available[:60]) + (f", ... ({len(available)} in all)" if len(available) > 60 else "")
            raise InputError(f"layers: {missing[0]!r} is not a layer of {type(model).__name__}; available: {shown}")
    x = _input_tensor(model, image, convs[0][1].in_channels, size=size, normalize=normalize)
    return x, names


def feature_maps(model: Any, image: Any, *, layers: Sequence[str] | str | None = None, max_maps: int = 16,
                 path: str | Path | None = None, size: int | tuple[int, int] | None = None,
                 normalize: tuple[Any, Any] | None = None, cell: int = 96) -> dict[str, np.ndarray]:
    """What each layer outputs for one image: ``{layer name: grid of its feature maps}``.

    The layers' outputs are captured with forward hooks during one ``model(x)`` in eval mode under ``no_grad``;
    the hooks are removed and the model's train/eval mode restored afterwards, also when the forward pass fails.
    Each grid shows the layer's ``max_maps`` channels with the largest spatial spread (in channel order), each
    min-max scaled and coloured with viridis.

    Args:
        model: any ``torch.nn.Module`` with a ``Conv2d``.
        image: a float tensor ``C×H×W`` or ``1×C×H×W`` as the model takes it, or a numpy uint8 image (H×W×3 RGB or
            H×W gray), which is converted to the first conv's channel count, resized to ``size``, scaled to [0, 1]
            and normalized with ``normalize``.
        layers: module names (as ``model.named_modules()``; one name or a list); default :func:`default_layers`.
        max_maps: at most this many maps per layer (≥ 1).
        path: also write :func:`feature_map_sheet`'s picture of these layers there.
        size: for a numpy image, resize it to ``(height, width)`` (an int: square) first.
        normalize: for a numpy image, ``(mean, std)`` (numbers or one per channel) applied after scaling to [0, 1].
        cell: the largest side in pixels of one drawn map.
    Returns:
        ``{layer name: H×W×3 uint8 RGB grid}`` in the order of ``layers``.
    Raises:
        InputError: not a module, no ``Conv2d``, an unknown layer name (the message lists the available ones), a
            layer whose output is not a feature map, ``max_maps`` < 1.
        ShapeError / DTypeError: an input of the wrong shape, channel count or dtype, or one the model fails on.
    """
    x, items = _run(model, image, layers, max_maps, size, normalize, cell)
    if path is not None:
        from vision.io import write_image

        write_image(path, _sheet(model, x, items, cell))
    return {n: g for n, g, _ in items}


def feature_map_sheet(model: Any, image: Any, *, layers: Sequence[str] | str | None = None, max_maps: int = 16,
                      path: str | Path | None = None, size: int | tuple[int, int] | None = None,
                      normalize: tuple[Any, Any] | None = None, cell: int = 96) -> np.ndarray:
    """One picture of the input and, below it, a row of feature maps per layer captioned with the layer's name.

    Arguments as :func:`feature_maps`; ``path`` writes the picture (PNG/JPEG… by suffix).

    Returns:
        H×W×3 uint8 RGB.
    Raises:
        As :func:`feature_maps`.
    """
    x, items = _run(model, image, layers, max_maps, size, normalize, cell)
    sheet = _sheet(model, x, items, cell)
    if path is not None:
        from vision.io import write_image

        write_image(path, sheet)
    return sheet


def _run(model: Any, image: Any, layers: Any, max_maps: Any, size: Any, normalize: Any,
         cell: Any) -> tuple[Any, list[tuple[str, np.ndarray, str]]]:
    """The input tensor and ``(layer name, grid, caption)`` per layer."""
    if isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or cell < 8:
        raise InputError(f"cell: expected an integer ≥ 8 (pixels), got {cell!r}")
    x, names = _prepare(model, image, layers, max_maps, size, normalize)
    captured = _capture(model, x, names)
    items = []
    for n in names:
        if n not in captured:
            raise InputError(f"feature_maps: layer {n!r} did not run in the forward pass (or returned no tensor)")
        grid, text = _layer_grid(captured[n], n, max_maps, cell=int(cell))
        items.append((n, grid, text))
    return x, items


def _sheet(model: Any, x: Any, items: list[tuple[str, np.ndarray, str]], cell: int) -> np.ndarray:
    """The input (as the model saw it, min-max scaled) above one captioned row per layer."""
    width = max(max(g.shape[1] for _, g, _ in items), 480)
    inp = x[0].float().cpu().numpy()
    view = _minmax(inp.transpose(1, 2, 0)) if inp.shape[0] == 3 else _minmax(inp[0])
    if view.ndim == 2:
        view = np.repeat(view[..., None], 3, axis=2)
    view = _upscale(view, max(1, math.ceil(2 * cell / max(view.shape[:2]))))
    if max(view.shape[:2]) > 2 * cell:
        import cv2

        s = 2 * cell / max(view.shape[:2])
        view = cv2.resize(view, (max(1, round(view.shape[1] * s)), max(1, round(view.shape[0] * s))),
                          interpolation=cv2.INTER_AREA)
    rows = [_caption(f"input {'x'.join(str(d) for d in x.shape[1:])} ({type(model).__name__})", width), view]
    for _, grid, text in items:
        rows += [_caption(text, width), grid]
    return _stack(rows, gap=2)
