"""Image folders (PNG files decoded once into their cache, streamed in batches) and CSV files."""

import pickle
import time

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from studio.core.data import describe, prepare_data, preview
from studio.core.errors import ConfigError, DatasetError
from studio.core.project import DataSpec

# ---- image folder ------------------------------------------------------------------------------


def write_images(root, per_class: int = 6, classes=("cats", "dogs")):
    """PNGs whose red (cats) or blue (dogs) channel is 10 * i for image i, so statistics are predictable."""
    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = np.zeros((5, 7, 3), np.uint8)
            pixels[..., 0 if c == 0 else 2] = 10 * i + 5
            Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return root


def _spec(root, **kw) -> DataSpec:
    params = {"root": str(root), "image_size": 8, **kw.pop("params", {})}
    return DataSpec(dataset="image_folder", params=params, **kw)


def test_image_folder_streams_resized_images(tmp_path):
    write_images(tmp_path)
    data = prepare_data(_spec(tmp_path, preprocessing="none", val_fraction=1 / 3))
    assert data.streaming and data.x_train is None and data.y_train is None
    assert data.input_shape == (3, 8, 8) and data.class_names == ("cats", "dogs") and data.num_classes == 2
    assert (data.n_train, data.n_val) == (8, 4)
    x, y = data.train_set[0]
    assert x.shape == (3, 8, 8) and x.dtype == torch.float32 and y in (0, 1)
    assert torch.all(x[2 if y == 1 else 0] > 0) and torch.all(x[1] == 0)
    xb, yb = next(iter(DataLoader(data.val_set, batch_size=4)))
    assert xb.shape == (4, 3, 8, 8) and yb.dtype == torch.int64


def test_image_folder_grayscale(tmp_path):
    write_images(tmp_path)
    data = prepare_data(_spec(tmp_path, params={"channels": "grayscale", "image_size": 6}))
    assert data.input_shape == (1, 6, 6) and data.train_set[0][0].shape == (1, 6, 6)
    assert data.image_shape == (6, 6)


def test_image_folder_statistics_from_training_split_in_one_pass(tmp_path):
    write_images(tmp_path, per_class=10)
    messages = []
    spec = _spec(tmp_path, preprocessing="standardize", val_fraction=0.3, seed=2)
    data = prepare_data(spec, progress=lambda f, m: messages.append(m))
    raw = prepare_data(_spec(tmp_path, preprocessing="none", val_fraction=0.3, seed=2))
    train = torch.stack([raw.train_set[i][0] for i in range(raw.n_train)]).double()
    every = torch.cat([train, torch.stack([raw.val_set[i][0] for i in range(raw.n_val)]).double()])
    np.testing.assert_allclose(data.preprocessing.mean, train.mean(0).numpy(), atol=1e-6)
    assert not np.allclose(data.preprocessing.mean, every.mean(0).numpy(), atol=1e-4)
    assert any("statistics" in m for m in messages)
    standardized = torch.stack([data.train_set[i][0] for i in range(data.n_train)]).double()
    np.testing.assert_allclose(standardized.mean(0).numpy(), 0.0, atol=1e-5)


def test_image_folder_subset_and_determinism(tmp_path):
    write_images(tmp_path, per_class=8)
    a = prepare_data(_spec(tmp_path, subset_per_class=3, seed=1))
    b = prepare_data(_spec(tmp_path, subset_per_class=3, seed=1))
    labels = [a.train_set[i][1] for i in range(a.n_train)]
    assert sorted(labels) == [0, 0, 0, 1, 1, 1]
    assert np.array_equal(a.train_set.indices, b.train_set.indices)
    assert torch.equal(a.train_set[0][0], b.train_set[0][0])


def test_image_folder_sets_survive_pickling_for_loader_workers(tmp_path):
    write_images(tmp_path)
    data = prepare_data(_spec(tmp_path))
    clone = pickle.loads(pickle.dumps(data.train_set))
    assert torch.equal(clone[1][0], data.train_set[1][0])


def test_image_folder_preview_and_describe(tmp_path):
    write_images(tmp_path)
    pv = preview(_spec(tmp_path), n=5)
    assert pv.kind == "images" and pv.data.shape == (5, 8, 8, 3)
    assert pv.data.min() >= 0 and pv.data.max() <= 1 and pv.class_names == ("cats", "dogs")
    assert list(pv.labels) == sorted(pv.labels)
    info = describe(_spec(tmp_path, params={"channels": "grayscale"}))
    assert (info.input_shape, info.class_names, info.num_classes) == ((1, 8, 8), ("cats", "dogs"), 2)


def test_image_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="choose an image folder"):
        prepare_data(DataSpec(dataset="image_folder"))
    with pytest.raises(DatasetError, match="image folder not found: .*missing"):
        prepare_data(_spec(tmp_path / "missing"))
    with pytest.raises(DatasetError, match=r"needs at least two class sub-folders \(found 0\)"):
        prepare_data(_spec(tmp_path))
    write_images(tmp_path, classes=("cats", "dogs"))
    (tmp_path / "birds").mkdir()
    (tmp_path / "birds" / "notes.txt").write_text("no pictures here")
    with pytest.raises(DatasetError, match=r"the class folder 'birds' in .* holds no pictures.*\.png"):
        prepare_data(_spec(tmp_path))


@pytest.mark.parametrize("root", ["/", "/etc"])
def test_a_system_folder_is_refused_without_walking_the_disk(root):
    started = time.monotonic()
    with pytest.raises(DatasetError, match="root of a drive|holds no pictures"):
        prepare_data(_spec(root))
    with pytest.raises(DatasetError, match="root of a drive|holds no pictures"):
        describe(_spec(root))
    assert time.monotonic() - started < 5


def test_unreadable_pictures_are_skipped_and_listed(tmp_path):
    """Empty and corrupt files are left out when the folder is first decoded; the data's warning names them."""
    from studio.core.engine import Trainer
    from studio.core.project import LayerSpec, Project

    write_images(tmp_path)
    (tmp_path / "dogs" / "zero.png").write_bytes(b"")
    (tmp_path / "dogs" / "003.png").write_bytes(b"\x89PNG garbage")
    data = prepare_data(_spec(tmp_path, preprocessing="standardize", val_fraction=0.0))
    assert data.n_train == 11
    (warning,) = data.warnings
    assert warning.startswith("skipped 2 of 13 pictures that cannot be read: ")
    assert "003.png" in warning and "zero.png (empty file (0 bytes))" in warning
    project = Project(data=_spec(tmp_path, preprocessing="none", val_fraction=0.0))
    project.model.layers = [LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 2})]
    project.training.epochs = 1
    assert Trainer(project).fit().reason == "completed"


def test_a_folder_of_unreadable_pictures_is_one_error(tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match=r"none of the 2 pictures in .* can be read \(the first, cats/a\.png"):
        prepare_data(_spec(tmp_path))


# ---- CSV ---------------------------------------------------------------------------------------


def write_csv(path, text: str):
    path.write_text(text, encoding="utf-8")
    return str(path)


IRIS = """sepal,species,petal
1.0,setosa,0.5
1.2,setosa,0.4
3.0,virginica,2.5
3.1,virginica,2.4
2.0,versicolor,1.5
2.1,versicolor,1.4
"""


def test_csv_classification_with_chosen_label_column(tmp_path):
    path = write_csv(tmp_path / "iris.csv", IRIS)
    messages = []
    spec = DataSpec(dataset="csv", params={"path": path, "label_column": "species"}, preprocessing="none",
                    val_fraction=0.0)
    data = prepare_data(spec, progress=lambda f, m: messages.append(m))
    assert data.input_shape == (2,) and data.x_train.dtype == torch.float32
    assert data.class_names == ("setosa", "versicolor", "virginica") and data.num_classes == 3
    assert data.y_train.dtype == torch.int64 and data.n_train == 6
    for x, y in zip(data.x_train.tolist(), data.y_train.tolist(), strict=True):
        assert int(x[0]) == {0: 1, 1: 2, 2: 3}[y]
    assert messages and "iris.csv" in messages[-1]
    points = preview(spec, n=4)
    assert points.kind == "points" and points.data.shape == (4, 2) and points.feature_names == ("sepal", "petal")


def test_csv_numeric_labels_sort_as_numbers_and_default_to_last_column(tmp_path):
    rows = "".join(f"{i},{i * 2}.5,{i % 3},{label}\n" for i, label in enumerate([2, 10, 2, 10, 1, 1]))
    path = write_csv(tmp_path / "n.csv", "a,b,c,label\n" + rows)
    spec = DataSpec(dataset="csv", params={"path": path}, val_fraction=0.0, preprocessing="none")
    data = prepare_data(spec)
    assert data.class_names == ("1", "2", "10") and data.input_shape == (3,)
    table = preview(spec, n=4)
    assert table.kind == "table" and table.data.shape == (4, 3) and table.feature_names == ("a", "b", "c")


def test_csv_regression_semicolons_and_quotes(tmp_path):
    path = write_csv(tmp_path / "r.csv", 'x;"size (m2)";price\n1;"10";2.5\n2;"20";4.5\n3;"30";6.5\n4;"40";8.5\n')
    spec = DataSpec(dataset="csv", params={"path": path, "task": "regression"}, preprocessing="none", val_fraction=0.25)
    data = prepare_data(spec)
    assert data.task == "regression" and data.target_dim == 1 and data.num_classes == 0
    assert data.y_train.shape == (3, 1) and data.y_train.dtype == torch.float32
    np.testing.assert_allclose(data.y_train[:, 0].numpy(), 2 * data.x_train[:, 0].numpy() + 0.5)


def test_csv_errors(tmp_path):
    with pytest.raises(DatasetError, match="choose a CSV file"):
        prepare_data(DataSpec(dataset="csv"))
    with pytest.raises(DatasetError, match="CSV file not found: .*nope.csv"):
        prepare_data(DataSpec(dataset="csv", params={"path": str(tmp_path / "nope.csv")}))
    path = write_csv(tmp_path / "iris.csv", IRIS)
    with pytest.raises(ConfigError, match="column 'kind' is not in the CSV file; its columns are: sepal, species") as e:
        prepare_data(DataSpec(dataset="csv", params={"path": path, "label_column": "kind"}))
    assert e.value.field == "label_column"
    with pytest.raises(DatasetError, match="iris.csv, line 2, column 'species': 'setosa' is not a number"):
        prepare_data(DataSpec(dataset="csv", params={"path": path}))
    bad = write_csv(tmp_path / "short.csv", "a,b\n1,x\n2\n")
    with pytest.raises(DatasetError, match="short.csv, line 3: 1 values, but the header has 2 columns"):
        prepare_data(DataSpec(dataset="csv", params={"path": bad}))
    one = write_csv(tmp_path / "one.csv", "a,b\n1,x\n2,x\n")
    with pytest.raises(DatasetError, match="holds only one class"):
        prepare_data(DataSpec(dataset="csv", params={"path": one}))
    empty = write_csv(tmp_path / "empty.csv", "a,b\n")
    with pytest.raises(DatasetError, match="needs a header row and at least one data row"):
        prepare_data(DataSpec(dataset="csv", params={"path": empty}))
    blank = write_csv(tmp_path / "blank.csv", "a,b\n,x\n1,y\n")
    with pytest.raises(DatasetError, match="line 2, column 'a': empty is not a number"):
        prepare_data(DataSpec(dataset="csv", params={"path": blank}))
    text = write_csv(tmp_path / "text.csv", "a,b\n1,2\n3,x\n")
    with pytest.raises(DatasetError, match="'x' is not a number; a regression label must be a number"):
        prepare_data(DataSpec(dataset="csv", params={"path": text, "task": "regression"}))


@pytest.mark.parametrize(("cell", "shown"), [("nan", "'nan'"), ("inf", "'inf'"), ("-Infinity", "'-Infinity'")])
def test_csv_non_finite_cells_name_their_row_and_column(tmp_path, cell, shown):
    path = write_csv(tmp_path / "nf.csv", f"a,b,label\n1,2,x\n3,4,y\n5,{cell},x\n")
    with pytest.raises(DatasetError, match=f"nf.csv, line 4, column 'b': {shown} is not a number"):
        prepare_data(DataSpec(dataset="csv", params={"path": path}))
    target = write_csv(tmp_path / "nt.csv", f"a,target\n1,2\n3,{cell}\n")
    with pytest.raises(DatasetError, match=f"nt.csv, line 3, column 'target': {shown} is not a number"):
        prepare_data(DataSpec(dataset="csv", params={"path": target, "task": "regression"}))


def test_csv_numpy_reading_matches_the_cells(tmp_path):
    """Tabs, quoted labels with the delimiter inside, spaces around numbers, a '#' in a label, blank lines."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=(300, 12)).astype(np.float32)
    labels = [["cat #1", "dog\tbig", "bird"][i % 3] for i in range(300)]
    lines = ["\t".join(f'" {name} "' if i == 5 else name for i, name in enumerate(["f"] * 12 + ["kind"]))]
    for row, label in zip(values, labels, strict=True):
        lines.append("\t".join([f" {v!r} " for v in row.tolist()] + [f'"{label}"']) + ("\n" if len(lines) % 50 else ""))
    path = write_csv(tmp_path / "t.tsv", "\n".join(lines) + "\n")
    data = prepare_data(DataSpec(dataset="csv", params={"path": path}, val_fraction=0.0, preprocessing="none"))
    assert data.class_names == ("bird", "cat #1", "dog\tbig") and data.n_train == 300
    order = np.argsort(data.x_train[:, 0].numpy())
    np.testing.assert_array_equal(data.x_train.numpy()[order], values[np.argsort(values[:, 0])])
    expected = np.array([data.class_names.index(label) for label in labels])[np.argsort(values[:, 0])]
    np.testing.assert_array_equal(data.y_train.numpy()[order], expected)


def test_csv_windows_line_ends_and_leading_blank_lines(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(b"\r\n\r\na,b,label\r\n1,2,x\r\n\r\n3,4,y\r\n")
    data = prepare_data(DataSpec(dataset="csv", params={"path": str(path)}, val_fraction=0.0, preprocessing="none"))
    assert data.class_names == ("x", "y") and sorted(data.x_train[:, 0].tolist()) == [1.0, 3.0]
