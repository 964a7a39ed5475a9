"""The decode-once cache of image folders: real files of awkward kinds, reuse, rebuild on change, cancel,
several decoding processes, and training from the memory map."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.data import prepare_data
from studio.core.data.image_cache import CACHE_FOLDER, open_cache, scan
from studio.core.decode import decode_file
from studio.core.engine import Trainer
from studio.core.project import DataSpec, LayerSpec, Project

EXTENSIONS = (".png", ".jpg", ".jpeg")


def _awkward_folder(root: Path) -> Path:
    """Class 'many': RGB JPEGs, a grey PNG, a CMYK JPEG, a truncated JPEG, random bytes named .jpg, a 0-byte
    file; class 'one': a single picture."""
    rng = np.random.default_rng(0)
    many, one = root / "many", root / "one"
    many.mkdir(parents=True)
    one.mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(many / f"rgb{i}.jpg")
    Image.fromarray(rng.integers(0, 255, (12, 12), dtype=np.uint8), mode="L").save(many / "grey.png")
    Image.new("CMYK", (16, 16), (0, 255, 0, 0)).save(many / "cmyk.jpg")
    whole = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(whole, format="JPEG")
    (many / "truncated.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    (many / "noise.jpg").write_bytes(rng.integers(0, 255, 500, dtype=np.uint8).tobytes())
    (many / "empty.jpg").write_bytes(b"")
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(one / "only.png")
    return root


def _spec(root: Path, size: int = 8, **kw: object) -> DataSpec:
    return DataSpec("image_folder", {"root": str(root), "image_size": size}, **kw)  # type: ignore[arg-type]


def _open(root: Path, size: int = 8, workers: int | None = 1, progress=lambda f, m: None):
    return open_cache(scan(root, ["many", "one"], EXTENSIONS), size, 3, progress, workers)


def test_awkward_files_are_converted_or_skipped_never_a_crash(tmp_path: Path) -> None:
    root = _awkward_folder(tmp_path)
    cache = _open(root)
    skipped = dict(cache.skipped)
    assert set(skipped) == {"many/empty.jpg", "many/noise.jpg", "many/truncated.jpg"}
    assert skipped["many/empty.jpg"] == "empty file (0 bytes)"
    assert len(cache.rows) == 6 and cache.labels.tolist() == [0, 0, 0, 0, 0, 1]  # the one-picture class kept
    pixels = cache.pixels()
    listing = scan(root, ["many", "one"], EXTENSIONS)
    for row in cache.rows:
        assert np.array_equal(pixels[row], decode_file(root / listing.paths[row], 8, 3)), listing.paths[row]
    grey = pixels[listing.paths.index("many/grey.png")]
    assert np.array_equal(grey[0], grey[1]) and np.array_equal(grey[1], grey[2])  # grey became RGB
    cmyk = pixels[listing.paths.index("many/cmyk.jpg")]
    assert cmyk[1].mean() < 40 and cmyk[0].mean() > 200  # magenta ink: red and blue light, little green
    data = prepare_data(_spec(root, preprocessing="none", val_fraction=0.0))
    assert data.n_train == 6 and "skipped 3 of 9 pictures" in data.warnings[0]


def test_the_cache_is_reused_and_rebuilt_when_a_file_changes(tmp_path: Path) -> None:
    root = _awkward_folder(tmp_path)
    first = _open(root)
    again = _open(root)
    assert first.built and not again.built and again.path == first.path
    assert sorted(p.name for p in (root / CACHE_FOLDER).iterdir()) == sorted([first.path.name,
                                                                                first.path.with_suffix(".json").name])
    picture = root / "one" / "only.png"
    Image.fromarray(np.full((8, 8, 3), 10, np.uint8)).save(picture)
    os.utime(picture, ns=(1, 1_000_000_000))
    changed = _open(root)
    assert changed.built and changed.path != first.path and not first.path.exists()  # the old cache is gone
    assert changed.pixels()[changed.rows[-1]].max() == 10
    other_size = _open(root, size=6)
    assert other_size.built and other_size.pixels().shape[-1] == 6


def test_progress_is_reported_and_cancel_leaves_no_cache(tmp_path: Path) -> None:
    root = _awkward_folder(tmp_path)

    class Cancelled(Exception):
        pass

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        _open(root, progress=cancel)
    assert list((root / CACHE_FOLDER).iterdir()) == []  # no half-written file under any name
    seen: list[tuple[float, str]] = []
    cache = _open(root, progress=lambda f, m: seen.append((f, m)))
    assert cache.built and seen[0][0] == 0 and seen[-1][0] == 1.0
    assert "Reading pictures once into the cache: 8 of 8" in seen[-1][1]


def test_several_decoding_processes_give_the_same_cache(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for name in ("many", "one"):
        (tmp_path / name).mkdir()
        for i in range(150):
            Image.fromarray(rng.integers(0, 255, (10, 10, 3), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "many" / "bad.png").write_bytes(b"junk")
    pooled = _open(tmp_path, workers=2)
    pixels = pooled.pixels().copy()
    assert dict(pooled.skipped) == {"many/bad.png": "cannot identify image file " + repr(str(tmp_path / "many" /
                                                                                               "bad.png"))}
    for name in (CACHE_FOLDER,):
        for entry in (tmp_path / name).iterdir():
            entry.unlink()
    serial = _open(tmp_path, workers=1)
    assert np.array_equal(serial.pixels(), pixels) and len(serial.rows) == 300


def test_training_reads_batches_of_pixels_from_the_cache(tmp_path: Path) -> None:
    root = _awkward_folder(tmp_path)
    project = Project(data=_spec(root, preprocessing="standardize", val_fraction=0.0))
    project.model.layers = [LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 2})]
    project.training.epochs = 2
    project.training.batch_size = 4
    trainer = Trainer(project)
    x, y = next(iter(trainer.batches.epoch(0)))
    assert x.dtype == torch.float32 and x.shape == (4, 3, 8, 8) and y.dtype == torch.int64
    data = trainer.data
    expected = torch.stack([data.train_set[i][0] for i in range(data.n_train)])  # sample by sample, preprocessed
    every = torch.cat([b[0] for b in trainer.batches.epoch(5)])
    assert every.shape == expected.shape  # the same samples, in the epoch's own order
    assert torch.allclose(every.sort(0).values, expected.sort(0).values, atol=1e-5)
    assert trainer.fit().reason == "completed"


def test_new_from_folder_surveys_and_proposes_a_fine_tuning_project(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    root = _awkward_folder(tmp_path / "pets")
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "TORCH_HOME": str(tmp_path / "torch")}
    out = tmp_path / "pets.json"
    result = subprocess.run([sys.executable, "main.py", "new-from-folder", str(root), "--out", str(out)], cwd=repo,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "many: 5 pictures" in result.stdout and "one: 1 pictures" in result.stdout
    assert "warning: few pictures (under 10) in many, one" in result.stderr
    assert "warning: skipped many/empty.jpg: empty file (0 bytes)" in result.stderr
    assert "warning: skipped many/noise.jpg" in result.stderr and "a random start" in result.stdout
    project = json.loads(out.read_text())
    layers = project["model"]["layers"]
    assert [row["type"] for row in layers] == ["Backbone", "Dropout", "Linear"]
    assert layers[0]["params"]["model"] == "mobilenet_v3_small" and layers[2]["params"]["out_features"] == 2
    assert project["data"]["preprocessing"] == "none" and project["data"]["params"]["image_size"] == 224
    assert any(p.name.endswith(".u8") for p in (root / CACHE_FOLDER).iterdir())  # the first read is done
