"""Seeing inside CNNs: first-layer filters, feature maps via hooks (always removed), sheets, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vision.errors import DTypeError, InputError, ShapeError
from vision.io import read_image
from vision.models import create_model
from vision.viz.features import (
    conv_layers,
    default_layers,
    feature_map_sheet,
    feature_maps,
    first_layer_filters,
)


def _no_hooks(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


@pytest.fixture(scope="module")
def fmnist() -> nn.Module:
    torch.manual_seed(0)
    return create_model("fmnist-cnn")


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    import torchvision

    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None)


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255  # a "1"
    img[6:9, 9:14] = 255
    return img


# --------------------------------------------------------------------------------------------------
def test_first_layer_filters_gray_model(fmnist, tmp_path):
    path = tmp_path / "filters.png"
    img = first_layer_filters(fmnist, path=path)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    np.testing.assert_array_equal(read_image(path), img)
    # 32 kernels of 3×3 on a 6-wide grid, each drawn ≥ 24 px: at least 6 × 24 px across and 6 rows of 24 px
    assert img.shape[1] >= 6 * 24 and img.shape[0] >= 6 * 24
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 10  # not blank
    # kernels are gray (equal channels) below the caption
    body = img[40:]
    assert np.array_equal(body[..., 0], body[..., 1])


def test_first_layer_filters_rgb_model_draws_each_kernel_in_colour(resnet):
    img = first_layer_filters(resnet, min_px=28)
    assert img.shape[1] >= 8 * 28  # 64 kernels, 8 per row, 7×7 enlarged to ≥ 28 px
    body = img[40:].astype(int)
    assert np.abs(body[..., 0] - body[..., 1]).max() > 50  # colour, not gray


def test_first_layer_filters_scales_each_kernel_on_its_own():
    conv = nn.Conv2d(1, 2, 2, bias=False)
    with torch.no_grad():
        conv.weight[0, 0] = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
        conv.weight[1, 0] = torch.tensor([[0.0, 100.0], [200.0, 300.0]])
    img = first_layer_filters(nn.Sequential(conv), min_px=24)
    # both kernels span the full 0..255 range (one is 100× the other)
    values = np.unique(img[..., 0])
    assert 0 in values and 255 in values and 85 in values and 170 in values


def test_feature_maps_default_layers_and_hooks_removed(fmnist, digit):
    fmnist.train()
    assert default_layers(fmnist) == ["features.0", "features.5"]
    maps = feature_maps(fmnist, digit, max_maps=8)
    assert list(maps) == ["features.0", "features.5"]
    for grid in maps.values():
        assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
        assert len(np.unique(grid.reshape(-1, 3), axis=0)) > 5
    # 8 maps of 28×28 drawn 96 px (the default cell) with 2 px gaps
    assert maps["features.0"].shape == (96 + 4, 8 * 96 + 9 * 2, 3)
    assert _no_hooks(fmnist)
    assert fmnist.training  # the train/eval mode is restored


def test_feature_maps_on_resnet18_at_224(resnet, tmp_path):
    import skimage.data

    path = tmp_path / "maps.png"
    maps = feature_maps(resnet, skimage.data.chelsea(), size=224, max_maps=4, path=path,
                        normalize=((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))
    assert list(maps) == ["conv1", "layer1", "layer2", "layer3", "layer4"]
    sheet = read_image(path)
    assert sheet.shape[0] > 5 * 40 and sheet.shape[1] >= 4 * 40
    assert _no_hooks(resnet)


def test_feature_maps_accepts_tensors_and_converts_images(fmnist, resnet, digit):
    x = torch.from_numpy(digit).float()[None] / 255
    by_tensor = feature_maps(fmnist, x, layers="features.0", max_maps=2)
    by_batch = feature_maps(fmnist, x[None], layers=["features.0"], max_maps=2)
    by_image = feature_maps(fmnist, digit, layers="features.0", max_maps=2)
    rgb_image = feature_maps(fmnist, np.dstack([digit] * 3), layers="features.0", max_maps=2)
    for other in (by_batch, by_image, rgb_image):
        np.testing.assert_array_equal(other["features.0"], by_tensor["features.0"])
    gray_into_rgb = feature_maps(resnet, np.full((64, 64), 90, np.uint8), layers="conv1", max_maps=2)
    assert gray_into_rgb["conv1"].ndim == 3


def test_feature_maps_any_named_module_and_max_maps(fmnist, digit):
    maps = feature_maps(fmnist, digit, layers=["features.2", "features"], max_maps=64, cell=28)
    assert list(maps) == ["features.2", "features"]
    # 'features' outputs 64×7×7; all 64 maps at ×4 = 28 px
    assert maps["features"].shape == (28 + 4, 64 * 28 + 65 * 2, 3)


def test_feature_map_sheet_writes_one_png_with_a_row_per_layer(fmnist, digit, tmp_path):
    path = tmp_path / "sheet.png"
    one = feature_map_sheet(fmnist, digit, layers=["features.0"], max_maps=4, path=path)
    two = feature_map_sheet(fmnist, digit, max_maps=4)
    np.testing.assert_array_equal(read_image(path), one)
    assert two.shape[0] > one.shape[0] and one.shape[1] >= 480
    assert _no_hooks(fmnist)


# --------------------------------------------------------------------------------------------------
def test_errors_leave_no_hooks_and_no_file(fmnist, digit, tmp_path):
    path = tmp_path / "never.png"
    fmnist.train()
    with pytest.raises(InputError, match=r"'head\.5'.*not a feature map"):
        feature_maps(fmnist, digit, layers=["features.0", "head.5"], path=path)
    assert _no_hooks(fmnist) and fmnist.training
    with pytest.raises(ShapeError, match="failed on an input of shape"):
        feature_maps(fmnist, torch.zeros(1, 1, 2, 2), path=path)  # too small for two 2×2 poolings
    assert _no_hooks(fmnist) and fmnist.training
    assert not path.exists()


def test_unknown_layer_lists_the_available_ones(fmnist, digit):
    with pytest.raises(InputError, match=r"'features\.99' is not a layer.*available: features, features\.0"):
        feature_maps(fmnist, digit, layers=["features.99"])
    with pytest.raises(InputError, match="at least one layer"):
        feature_maps(fmnist, digit, layers=[])


def test_models_without_conv_are_refused():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(InputError, match="no Conv2d"):
        first_layer_filters(mlp)
    with pytest.raises(InputError, match="no Conv2d"):
        feature_maps(mlp, np.zeros((2, 2), np.uint8))
    with pytest.raises(InputError, match="torch.nn.Module"):
        first_layer_filters("resnet18")
    with pytest.raises(InputError, match="torch.nn.Module"):
        conv_layers(object())


@pytest.mark.parametrize("image, error, match", [
    (torch.zeros(2, 1, 28, 28), ShapeError, "1×C×H×W"),
    (torch.zeros(28, 28), ShapeError, "1×C×H×W"),
    (torch.zeros(1, 3, 28, 28), ShapeError, "takes 1 channel"),
    (torch.zeros(1, 1, 28, 28, dtype=torch.uint8), DTypeError, "float tensor"),
    (np.zeros((28, 28), np.float32), DTypeError, "uint8"),
    (np.zeros((28, 28, 4), np.uint8), ShapeError, "H×W×3"),
    (np.zeros((0, 28), np.uint8), ShapeError, "at least 1×1 pixels"),
    ([[0, 1]], InputError, "numpy"),
])
def test_bad_inputs(fmnist, image, error, match):
    with pytest.raises(error, match=match):
        feature_maps(fmnist, image)
    assert _no_hooks(fmnist)


@pytest.mark.parametrize("kwargs, match", [
    ({"max_maps": 0}, "max_maps"),
    ({"max_maps": 2.5}, "max_maps"),
    ({"cell": 4}, "cell"),
    ({"size": -3}, "size"),
    ({"normalize": (0.5,)}, "normalize"),
    ({"normalize": (0.5, 0.0)}, "std"),
])
def test_bad_options(fmnist, digit, kwargs, match):
    with pytest.raises(InputError, match=match):
        feature_maps(fmnist, digit, **kwargs)
    with pytest.raises(InputError, match="min_px"):
        first_layer_filters(fmnist, min_px=0)
