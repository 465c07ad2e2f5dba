"""ImageClassificationDataset and classification_loaders: tensors, normalization, per-epoch seeded augmentation,
reproducible shuffling and resume, worker determinism, and every bad-input case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision.data import ClassificationTable, from_arrays
from vision.data.augment import AugmentConfig, make_augmentation
from vision.data.image_dataset import (
    EpochShuffleSampler,
    ImageClassificationDataset,
    classification_loaders,
    sample_seed,
)
from vision.errors import (
    DatasetError,
    DTypeError,
    ImageDecodeError,
    InputError,
    ShapeError,
    SourceNotFoundError,
)
from vision.io import read_image, write_image


def _gray_table(n: int = 24, h: int = 12, w: int = 10, classes: int = 3) -> ClassificationTable:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, h, w), dtype=np.uint8)
    return from_arrays(images, np.arange(n) % classes, names=[f"c{k}" for k in range(classes)])


def _rgb_table(n: int = 12) -> ClassificationTable:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (n, 16, 20, 3), dtype=np.uint8)
    return from_arrays(images, np.arange(n) % 2, names=["a", "b"])


def _file_table(tmp_path, n: int = 4) -> ClassificationTable:
    rng = np.random.default_rng(2)
    paths = []
    for i in range(n):
        p = tmp_path / f"img{i}.png"
        write_image(p, rng.integers(0, 256, (18, 14, 3), dtype=np.uint8))
        paths.append(p)
    return ClassificationTable(["x", "y"], np.arange(n) % 2, paths=paths)


# --------------------------------------------------------------------------------------------------
def test_items_are_float_chw_in_unit_range_with_int64_labels():
    table = _gray_table()
    ds = ImageClassificationDataset(table, channels=1)
    x, y = ds[5]
    assert x.dtype == torch.float32 and x.shape == (1, 12, 10)
    assert y.dtype == torch.int64 and y.ndim == 0 and int(y) == int(table.labels[5])
    np.testing.assert_allclose(x[0].numpy(), table.images[5] / 255.0, atol=1e-6)
    assert len(ds) == 24 and ds.classes == ["c0", "c1", "c2"]
    # negative indices and tensor indices work like a sequence
    np.testing.assert_array_equal(ds[-1][0].numpy(), ds[23][0].numpy())
    np.testing.assert_array_equal(ds[torch.tensor(3)][0].numpy(), ds[3][0].numpy())


def test_channel_conversion_both_ways():
    gray = _gray_table()
    x3, _ = ImageClassificationDataset(gray, channels=3)[0]
    assert x3.shape == (3, 12, 10)
    np.testing.assert_array_equal(x3[0].numpy(), x3[1].numpy())
    np.testing.assert_allclose(x3[2].numpy(), gray.images[0] / 255.0, atol=1e-6)
    rgb = _rgb_table()
    x1, _ = ImageClassificationDataset(rgb, channels=1)[0]
    img = rgb.images[0].astype(np.float64)
    luma = 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]
    assert x1.shape == (1, 16, 20)
    assert np.abs(x1[0].numpy() * 255 - luma).max() <= 1.0


def test_float_and_single_channel_arrays_are_accepted():
    rng = np.random.default_rng(3)
    f = rng.random((4, 8, 8, 1)).astype(np.float32)
    ds = ImageClassificationDataset(from_arrays(f, [0, 1, 0, 1]), channels=1)
    x, _ = ds[2]
    np.testing.assert_allclose(x[0].numpy(), np.round(f[2, ..., 0] * 255) / 255, atol=1e-6)


def test_normalize_and_resize():
    table = _rgb_table()
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    raw, _ = ImageClassificationDataset(table)[1]
    x, _ = ImageClassificationDataset(table, normalize=(mean, std))[1]
    expected = (raw.numpy() - np.asarray(mean)[:, None, None]) / np.asarray(std)[:, None, None]
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5, atol=1e-5)
    xs, _ = ImageClassificationDataset(table, normalize=(0.5, 0.5))[1]  # scalars apply to every channel
    np.testing.assert_allclose(xs.numpy(), (raw.numpy() - 0.5) / 0.5, atol=1e-5)
    small = ImageClassificationDataset(table, size=(8, 10))
    big = ImageClassificationDataset(table, size=32)
    assert small[0][0].shape == (3, 8, 10) and big[0][0].shape == (3, 32, 32)
    assert small.image(0).shape == (8, 10, 3) and small.image(0).dtype == np.uint8


def test_file_table_reads_images(tmp_path):
    table = _file_table(tmp_path)
    ds = ImageClassificationDataset(table, size=(9, 7))
    x, y = ds[2]
    assert x.shape == (3, 9, 7) and int(y) == 0
    np.testing.assert_array_equal(ds.image(2, augment=False), ImageClassificationDataset(table, size=(9, 7)).image(2))
    full = ImageClassificationDataset(table)
    np.testing.assert_array_equal(full.image(1), read_image(table.paths[1]))


def test_corrupt_and_missing_files_raise_the_readers_error_naming_row_and_file(tmp_path):
    table = _file_table(tmp_path)
    table.paths[1].write_bytes(b"not a png at all")
    table.paths[3].unlink()
    ds = ImageClassificationDataset(table)
    with pytest.raises(ImageDecodeError, match=r"row 1.*img1\.png"):
        ds[1]
    with pytest.raises(SourceNotFoundError, match=r"row 3.*img3\.png"):
        ds[3]
    ds[0]  # the good rows still load


# --------------------------------------------------------------------------------------------------
def test_augmentation_depends_on_seed_epoch_and_index_only():
    table = _rgb_table()
    ds = ImageClassificationDataset(table, augment="strong", seed=4)
    e0 = [ds[i][0] for i in range(4)]
    ds.set_epoch(1)
    assert ds.epoch == 1
    e1 = [ds[i][0] for i in range(4)]
    assert not any(torch.equal(a, b) for a, b in zip(e0, e1))  # a new epoch, new augmentations
    ds.set_epoch(0)
    for i in (3, 1, 0, 2):  # any order, any repeat: the same as before
        assert torch.equal(ds[i][0], e0[i])
    twin = ImageClassificationDataset(table, augment=make_augmentation("strong", seed=123), seed=4)
    assert torch.equal(twin[2][0], e0[2])  # the augmentation's own seed does not matter, the dataset's does
    other = ImageClassificationDataset(table, augment="strong", seed=5)
    assert not torch.equal(other[2][0], e0[2])
    # an explicit (index, epoch key) pair, as the loaders' sampler passes it
    assert torch.equal(ds[(2, 1)][0], e1[2])
    assert sample_seed(4, 1, 2) == sample_seed(4, 1, 2) != sample_seed(4, 2, 1)


def test_no_augment_and_image_without_augment_are_untouched():
    table = _rgb_table()
    ds = ImageClassificationDataset(table, augment=AugmentConfig(horizontal_flip=True, p_flip=1.0))
    np.testing.assert_array_equal(ds.image(0), np.fliplr(table.images[0]))
    np.testing.assert_array_equal(ds.image(0, augment=False), table.images[0])


def test_plain_callables_are_used_and_bad_outputs_are_caught():
    table = _gray_table()
    ds = ImageClassificationDataset(table, channels=1, augment=lambda im: 255 - im)
    np.testing.assert_allclose(ds[0][0][0].numpy(), (255 - table.images[0]) / 255.0, atol=1e-6)
    with pytest.raises(DTypeError, match="row 0"):
        ImageClassificationDataset(table, channels=1, augment=lambda im: im.astype(np.float32))[0]
    with pytest.raises(ShapeError, match="row 2"):
        ImageClassificationDataset(table, channels=1, augment=lambda im: np.dstack([im] * 3))[2]


@pytest.mark.parametrize("kwargs, match", [
    ({"channels": 2}, "channels"),
    ({"channels": True}, "channels"),
    ({"size": 0}, "size"),
    ({"size": (4, 4, 4)}, "size"),
    ({"normalize": (0.5,)}, "normalize"),
    ({"normalize": ((0.5, 0.5), 0.2)}, "mean"),
    ({"normalize": (0.5, 0.0)}, "std must be > 0"),
    ({"normalize": (float("nan"), 1.0)}, "finite"),
    ({"normalize": ("a", 1.0)}, "mean"),
    ({"seed": -1}, "seed"),
    ({"seed": None}, "seed"),
    ({"augment": "extreme"}, "unknown preset"),
    ({"augment": 5}, "augment"),
])
def test_bad_dataset_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        ImageClassificationDataset(_rgb_table(), **kwargs)


def test_bad_table_index_and_epoch():
    with pytest.raises(InputError, match="ClassificationTable"):
        ImageClassificationDataset(np.zeros((2, 4, 4), np.uint8))
    ds = ImageClassificationDataset(_rgb_table())
    with pytest.raises(InputError, match="out of range"):
        ds[12]
    with pytest.raises(InputError, match="integer"):
        ds["0"]
    with pytest.raises(InputError, match="set_epoch"):
        ds.set_epoch(-1)
    with pytest.raises(InputError, match="set_epoch"):
        ds.set_epoch(1.0)


# --------------------------------------------------------------------------------------------------
def _epoch(loader) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = zip(*loader)
    return torch.cat(xs), torch.cat(ys)


def test_loaders_shuffle_and_augment_reproducibly_and_change_per_epoch():
    table = _gray_table(n=30)
    kw = {"size": 8, "batch_size": 7, "augment": "light", "channels": 1, "seed": 3}
    a, _ = classification_loaders(table, **kw)
    b, _ = classification_loaders(table, **kw)
    a1, a2 = _epoch(a), _epoch(a)
    b1, b2 = _epoch(b), _epoch(b)
    assert torch.equal(a1[0], b1[0]) and torch.equal(a1[1], b1[1])
    assert torch.equal(a2[0], b2[0]) and torch.equal(a2[1], b2[1])
    assert not torch.equal(a1[1], a2[1])  # new order each epoch
    assert a1[0].shape == (30, 1, 8, 8) and a1[1].dtype == torch.int64
    assert sorted(a1[1].tolist()) == sorted(table.labels.tolist())  # every item once per epoch
    c, _ = classification_loaders(table, **{**kw, "seed": 4})
    assert not torch.equal(_epoch(c)[1], a1[1])
    assert isinstance(a.sampler, EpochShuffleSampler) and a.generator is a.sampler.generator


def test_restoring_the_generator_state_resumes_order_and_augmentations_exactly():
    """What vision.train.Trainer checkpoints: the training loader's generator state."""
    table = _rgb_table(n=10)
    kw = {"size": (8, 8), "batch_size": 4, "augment": "strong", "seed": 11}
    run, _ = classification_loaders(table, **kw)
    _epoch(run)
    state = run.generator.get_state()
    expected = _epoch(run)
    fresh, _ = classification_loaders(table, **kw)
    fresh.generator.set_state(state)
    got = _epoch(fresh)
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])


def test_worker_processes_give_the_same_batches():
    table = _rgb_table(n=8)
    kw = {"size": 8, "batch_size": 4, "augment": "standard", "seed": 2}
    main, _ = classification_loaders(table, **kw)
    workers, _ = classification_loaders(table, **kw, num_workers=1)
    m, w = _epoch(main), _epoch(workers)
    assert torch.equal(m[0], w[0]) and torch.equal(m[1], w[1])


def test_validation_split_and_table():
    table = _gray_table(n=30)
    train, val = classification_loaders(table, size=6, batch_size=5, augment="strong", val=0.2, channels=1,
                                        normalize=(0.5, 0.5))
    assert len(train.dataset) == 24 and len(val.dataset) == 6
    assert val.dataset.augment is None
    assert np.bincount(val.dataset.table.labels).tolist() == [2, 2, 2]  # stratified
    v1, v2 = _epoch(val), _epoch(val)
    assert torch.equal(v1[0], v2[0]) and torch.equal(v1[1], v2[1])  # fixed order, no augmentation
    assert float(v1[0].min()) >= -1.0 and float(v1[0].max()) <= 1.0  # normalized (x - 0.5) / 0.5
    _, val2 = classification_loaders(table.subset(range(20)), size=6, batch_size=5, channels=1,
                                     val=table.subset(range(20, 30)))
    assert len(val2.dataset) == 10
    assert classification_loaders(table, size=6, channels=1)[1] is None


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, InputError, "batch_size"),
    ({"batch_size": 2.0}, InputError, "batch_size"),
    ({"num_workers": -1}, InputError, "num_workers"),
    ({"size": None}, InputError, "size"),
    ({"val": 1.5}, InputError, "fraction"),
    ({"val": 0}, InputError, "fraction"),
    ({"val": True}, InputError, "val"),
    ({"val": "0.2"}, InputError, "val"),
    ({"seed": -2}, InputError, "seed"),
    ({"channels": 4}, InputError, "channels"),
])
def test_bad_loader_arguments(kwargs, error, match):
    args = {"size": 6, "batch_size": 4, **kwargs}
    with pytest.raises(error, match=match):
        classification_loaders(_gray_table(n=12), **args)


def test_loader_rejects_val_with_other_classes_and_non_tables():
    table = _gray_table(n=12)
    with pytest.raises(DatasetError, match="leaves"):
        classification_loaders(_gray_table(n=1), size=4, val=0.5)
    other = from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1], names=["p", "q"])
    with pytest.raises(InputError, match="classes"):
        classification_loaders(table, size=4, val=other)
    with pytest.raises(InputError, match="ClassificationTable"):
        classification_loaders([1, 2], size=4)


def test_trainer_resumes_exactly_with_augmenting_loaders(tmp_path):
    """A run stopped after epoch 1 and resumed ends with the same weights as an uninterrupted one."""
    from torch import nn

    from vision.train import ClassificationTask, Trainer

    table = _rgb_table(n=16)

    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
        train, val = classification_loaders(table, size=10, batch_size=4, augment="strong", val=0.25, seed=1)
        trainer = Trainer(model, ClassificationTask(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
        return model, trainer, train, val

    model, trainer, train, val = make()
    trainer.fit(train, val, epochs=3)
    _, first, train_b, val_b = make()
    first.fit(train_b, val_b, epochs=1)
    first.save_checkpoint(tmp_path / "epoch1.pt")
    resumed_model, resumed, train_c, val_c = make()
    resumed.fit(train_c, val_c, epochs=3, resume=tmp_path / "epoch1.pt")
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        assert torch.equal(a, b)
    assert resumed.history.history["loss"] == trainer.history.history["loss"]
