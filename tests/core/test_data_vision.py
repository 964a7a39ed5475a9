"""torchvision datasets from tiny files in the real formats: MNIST-like sets read by the real torchvision
classes, CIFAR-10 batches read once by the restricted unpickler (never by torchvision's unrestricted one)."""

import gzip
import os
import pickle
import re
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd

from studio.core.data import describe, prepare_data, preview
from studio.core.errors import DatasetError
from studio.core.project import DataSpec

MNIST_LIKE = [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST"), ("kmnist", "KMNIST")]


def _idx(array: np.ndarray) -> bytes:
    """An IDX (ubyte) file: zero, zero, type 0x08, rank, big-endian sizes, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _pixel(label: np.ndarray) -> np.ndarray:
    return label * 20 + 5  # every pixel of an image encodes its label, so pairing can be checked


def write_mnist(root, class_name: str, per_class: int = 3, test_per_class: int = 2, gz: bool = False, size=28):
    raw = root / class_name / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", per_class), ("t10k", test_per_class)):
        labels = np.tile(np.arange(10), n).astype(np.uint8)
        images = np.broadcast_to(_pixel(labels)[:, None, None], (len(labels), size, size))
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            data = _idx(np.ascontiguousarray(array))
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
    return raw


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(("name", "class_name"), MNIST_LIKE)
def test_mnist_like_loads_through_torchvision(tmp_path, name, class_name, gz):
    write_mnist(tmp_path, class_name, gz=gz)
    messages = []
    spec = DataSpec(dataset=name, params={"root": str(tmp_path)}, preprocessing="none", val_fraction=1 / 3)
    data = prepare_data(spec, progress=lambda f, m: messages.append((f, m)))
    assert data.input_shape == (1, 28, 28) and data.x_train.shape[1:] == (1, 28, 28)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert (data.n_train, data.n_val) == (20, 10) and data.image_shape == (28, 28)
    assert data.class_names == tuple(getattr(tvd, class_name).classes) and data.num_classes == 10
    expected = torch.from_numpy(_pixel(data.y_train.numpy())).float() / 255
    assert torch.allclose(data.x_train[:, 0, 5, 7], expected)
    assert messages and messages[-1][0] == 1.0


def test_official_test_set_as_validation(tmp_path):
    write_mnist(tmp_path, "MNIST", per_class=4, test_per_class=2)
    spec = DataSpec(dataset="mnist", params={"root": str(tmp_path), "validation": "test_set"}, preprocessing="none")
    data = prepare_data(spec)
    assert (data.n_train, data.n_val) == (40, 20)
    assert torch.allclose(data.x_val[:, 0, 0, 0], torch.from_numpy(_pixel(data.y_val.numpy())).float() / 255)
    sub = prepare_data(DataSpec(dataset="mnist", params=spec.params, subset_per_class=2, val_fraction=0.5))
    assert np.bincount(sub.y_train.numpy()).tolist() == [2] * 10
    assert np.bincount(sub.y_val.numpy()).tolist() == [2] * 10


def test_mnist_preview_and_static_describe(tmp_path):
    info = describe(DataSpec(dataset="mnist", params={"root": str(tmp_path / "nothing-here")}))
    assert (info.input_shape, info.num_classes, info.n_train) == ((1, 28, 28), 10, None)
    write_mnist(tmp_path, "MNIST")
    pv = preview(DataSpec(dataset="mnist", params={"root": str(tmp_path)}), n=12)
    assert pv.kind == "images" and pv.data.shape == (12, 28, 28) and pv.data.dtype == np.float32
    np.testing.assert_allclose(pv.data[:, 3, 3], _pixel(pv.labels) / 255, rtol=1e-6)


def test_missing_mnist_files_name_folder_and_files(tmp_path):
    raw = write_mnist(tmp_path, "MNIST")
    (raw / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError) as err:
        prepare_data(DataSpec(dataset="mnist", params={"root": str(tmp_path)}))
    message = str(err.value)
    assert str(raw) in message and "missing t10k-labels-idx1-ubyte." in message
    assert "train-images-idx3-ubyte" in message and "download" in message


def test_failed_download_is_a_clear_dataset_error(tmp_path, monkeypatch):
    # A file:// mirror that does not exist fails exactly like an unreachable server, without a network.
    monkeypatch.setattr(tvd.FashionMNIST, "mirrors", [(tmp_path / "offline").as_uri() + "/"])
    root = tmp_path / "data"
    with pytest.raises(DatasetError, match="could not download Fashion-MNIST into") as err:
        prepare_data(DataSpec(dataset="fashion_mnist", params={"root": str(root), "download": True}))
    assert str(root / "FashionMNIST" / "raw") in str(err.value)
    assert "t10k-labels-idx1-ubyte" in str(err.value)


def test_corrupt_idx_files(tmp_path):
    raw = write_mnist(tmp_path, "MNIST")
    (raw / "train-images-idx3-ubyte").write_bytes(b"\x12\x34\x56\x78garbage")
    with pytest.raises(DatasetError, match="not valid IDX"):
        prepare_data(DataSpec(dataset="mnist", params={"root": str(tmp_path)}))


def test_wrong_image_size(tmp_path):
    write_mnist(tmp_path, "KMNIST", size=8)
    with pytest.raises(DatasetError, match="expected equally many 28×28 images"):
        prepare_data(DataSpec(dataset="kmnist", params={"root": str(tmp_path)}))


def test_corrupt_gzip(tmp_path):
    raw = write_mnist(tmp_path, "MNIST", gz=True)
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DatasetError, match="not a readable gzip file"):
        prepare_data(DataSpec(dataset="mnist", params={"root": str(tmp_path)}))


# ---- CIFAR-10 ----------------------------------------------------------------------------------

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _cifar_batch(labels: list[int]) -> dict:
    rows = [np.concatenate([np.full(1024, 20 * y), np.full(1024, 100), np.full(1024, 200)]) for y in labels]
    data = np.array(rows, np.uint8)
    return {"batch_label": "tiny", "labels": labels, "data": data, "filenames": ["x.png"] * len(labels)}


def write_cifar(root, per_batch: int = 1):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(_cifar_batch(list(range(10)) * per_batch), protocol=2))
    meta = {"label_names": CIFAR_NAMES, "num_cases_per_batch": 10 * per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return folder


def test_cifar10_loads_through_torchvision(tmp_path):
    write_cifar(tmp_path)
    spec = DataSpec(dataset="cifar10", params={"root": str(tmp_path)}, preprocessing="none", val_fraction=0.2)
    data = prepare_data(spec)
    assert data.input_shape == (3, 32, 32) and data.x_train.shape == (40, 3, 32, 32)
    assert (data.n_train, data.n_val) == (40, 10)
    assert data.class_names == tuple(CIFAR_NAMES) and data.image_shape == (32, 32, 3)
    red = torch.from_numpy(20 * data.y_train.numpy()).float() / 255
    assert torch.allclose(data.x_train[:, 0, 4, 4], red)
    assert torch.allclose(data.x_train[:, 1], torch.tensor(100 / 255))
    assert torch.allclose(data.x_train[:, 2], torch.tensor(200 / 255))


def test_cifar10_channel_mean_and_preview(tmp_path):
    write_cifar(tmp_path)
    params = {"root": str(tmp_path), "validation": "test_set"}
    data = prepare_data(DataSpec(dataset="cifar10", params=params, preprocessing="channel_mean"))
    assert data.preprocessing.mean.shape == (3, 1, 1) and data.n_val == 10
    np.testing.assert_allclose(data.preprocessing.mean[1:, 0, 0], [100 / 255, 200 / 255], rtol=1e-5)
    pv = preview(DataSpec(dataset="cifar10", params=params), n=5)
    assert pv.kind == "images" and pv.data.shape == (5, 32, 32, 3)
    np.testing.assert_allclose(pv.data[:, 0, 0, 0], 20 * pv.labels / 255, rtol=1e-6)


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


def test_cifar10_refuses_batches_that_would_run_code(tmp_path):
    folder = write_cifar(tmp_path)
    target = tmp_path / "pwned"
    (folder / "data_batch_3").write_bytes(pickle.dumps({"labels": [], "data": _Payload(str(target))}, protocol=2))
    with pytest.raises(DatasetError, match="data_batch_3 is not a valid CIFAR-10 batch file.*mkdir"):
        prepare_data(DataSpec(dataset="cifar10", params={"root": str(tmp_path)}))
    assert not target.exists()


def test_a_file_swapped_after_it_was_read_is_never_read_again(tmp_path):
    """The hook between steps (the progress callback) swaps every batch already read for a payload."""
    folder = write_cifar(tmp_path)
    target = tmp_path / "pwned"
    payload = pickle.dumps({"labels": [], "data": _Payload(str(target))}, protocol=2)
    read: list[str] = []

    def swap(_fraction: float, message: str) -> None:
        for name in read:
            (folder / name).write_bytes(payload)
        if message.startswith("Reading "):
            read.append(message.removeprefix("Reading "))

    data = prepare_data(DataSpec(dataset="cifar10", params={"root": str(tmp_path), "validation": "test_set"},
                                 preprocessing="none"), progress=swap)
    assert read == [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    assert data.n_train + data.n_val == 60 and not target.exists()
    with pytest.raises(DatasetError, match="not a valid CIFAR-10 batch file.*mkdir"):  # the swap did happen
        prepare_data(DataSpec(dataset="cifar10", params={"root": str(tmp_path)}))
    assert not target.exists()


def test_files_swapped_back_and_forth_while_loading_never_run_code(tmp_path):
    """A thread swaps the batch files between good and payload as fast as it can while they load."""
    folder = write_cifar(tmp_path)
    target = tmp_path / "pwned"
    good = {name: (folder / name).read_bytes() for name in ("data_batch_1", "data_batch_2")}
    evil = pickle.dumps({"labels": [], "data": _Payload(str(target))}, protocol=2)
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            for content in (evil, None):
                for name, original in good.items():
                    tmp = folder / f".{name}.swap"
                    tmp.write_bytes(content or original)
                    os.replace(tmp, folder / name)

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    sizes, refusals = [], []
    try:
        for _ in range(60):
            try:
                data = prepare_data(DataSpec(dataset="cifar10", params={"root": str(tmp_path)}))
            except DatasetError as exc:
                refusals.append(str(exc))
            else:
                sizes.append(data.n_train + data.n_val)
    finally:
        stop.set()
        thread.join()
    assert not target.exists()  # the payload never ran
    assert refusals and all("not a valid CIFAR-10 batch file" in text for text in refusals)
    assert set(sizes) <= {50}  # what loaded is the real data


def test_no_unrestricted_unpickling_anywhere_in_the_program():
    """Every pickle read in the program (package, benchmarks, doc scripts) is restricted: torch.load with
    weights_only=True, no pickle.load(s), no numpy allow_pickle, no torchvision class that unpickles."""
    root = Path(__file__).resolve().parents[2]
    offences = []
    sources = [*root.glob("studio/**/*.py"), *root.glob("benchmarks/*.py"), *root.glob("docs/*.py"), root / "main.py"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"torch\.load\(", text):
            call = text[match.end():text.find(")", match.end()) + 1]
            if "weights_only=True" not in call:
                offences.append(f"{path.name}: torch.load({call}")
        offences += [f"{path.name}: {m.group(0)}" for m in re.finditer(
            r"pickle\.loads?\(|allow_pickle\s*=\s*True|\bCIFAR10\(|\bCIFAR100\b|import dill|joblib\.load", text)]
    assert offences == []


def test_cifar10_inconsistent_batch(tmp_path):
    folder = write_cifar(tmp_path)
    batch = _cifar_batch(list(range(10)))
    batch["labels"] = [11] * 10
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DatasetError, match="inconsistent"):
        prepare_data(DataSpec(dataset="cifar10", params={"root": str(tmp_path)}))


def test_missing_cifar_files_name_folder_and_files(tmp_path):
    with pytest.raises(DatasetError) as err:
        prepare_data(DataSpec(dataset="cifar10", params={"root": str(tmp_path)}))
    message = str(err.value)
    assert str(tmp_path / "cifar-10-batches-py") in message
    assert "data_batch_1" in message and "batches.meta" in message and "download" in message


def test_failed_cifar_download_is_a_clear_dataset_error(tmp_path, monkeypatch):
    monkeypatch.setattr(tvd.CIFAR10, "url", (tmp_path / "offline" / "cifar-10-python.tar.gz").as_uri())
    with pytest.raises(DatasetError, match="could not download CIFAR-10 into") as err:
        prepare_data(DataSpec(dataset="cifar10", params={"root": str(tmp_path), "download": True}))
    assert "cifar-10-batches-py" in str(err.value) and "test_batch" in str(err.value)
