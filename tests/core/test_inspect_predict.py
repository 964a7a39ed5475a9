"""Predictions for samples, drawn pictures and image files take exactly the training data's path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.data import prepare_data
from studio.core.errors import DatasetError
from studio.core.inspect import (
    ModelSnapshot,
    class_probabilities,
    load_image,
    predict_file,
    predict_pixels,
    predict_sample,
)
from studio.core.inspect.predict import dark_background, pixels_to_input, split_size
from studio.core.inspect.snapshot import raw_values, to_images
from studio.core.presets import default_project


@pytest.fixture(scope="module")
def digits():
    """An untrained digits MLP is enough: the path from pixels to outputs is what is tested."""
    project = default_project()
    project.data.subset_per_class = 5
    data = prepare_data(project.data)
    from studio.core.build import build_model

    model = build_model(project.model, data.input_shape, seed=0)
    return ModelSnapshot.from_state(project, model.state_dict(), data)


def test_a_drawn_copy_of_a_sample_gets_the_samples_prediction(digits):
    data = digits.data
    picture = to_images(raw_values(data.preprocessing, data.x_val[:1].numpy()), (8, 8))[0]
    assert digits.image_shape == (8, 8) and picture.min() > -1e-6 and picture.max() < 1 + 1e-6
    drawn = predict_pixels(digits, picture)
    with torch.no_grad():
        expected = class_probabilities(digits.model(data.x_val[:1]), "cross_entropy")[0].numpy()
    np.testing.assert_allclose(drawn.probabilities, expected, rtol=1e-4, atol=1e-6)
    assert drawn.predicted == int(expected.argmax()) and drawn.predicted_name == str(drawn.predicted)
    np.testing.assert_allclose(drawn.image, picture)


def test_predict_sample_reports_the_true_label_and_the_picture(digits):
    assert split_size(digits) == digits.data.n_val
    prediction = predict_sample(digits, 3)
    assert prediction.true == int(digits.data.y_val[3])
    assert prediction.image.shape == (8, 8) and len(prediction.top) == 3
    assert prediction.top[0][0] == prediction.predicted
    assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_pixels_take_the_networks_layout():
    picture = np.arange(12, dtype=np.float32).reshape(3, 4) / 12
    assert pixels_to_input(picture, (12,)).tolist() == picture.reshape(-1).tolist()
    assert pixels_to_input(picture, (1, 3, 4)).shape == (1, 3, 4)
    colour = pixels_to_input(picture, (3, 3, 4))
    assert colour.shape == (3, 3, 4) and torch.equal(colour[0], colour[2])
    rgb = np.stack([picture, picture * 0, picture * 0], -1)
    assert torch.equal(pixels_to_input(rgb, (3, 3, 4))[0], torch.from_numpy(picture))
    assert torch.allclose(pixels_to_input(rgb, (1, 3, 4))[0], torch.from_numpy(picture) / 3)


def test_digits_are_light_ink_on_a_dark_background(digits):
    assert dark_background(digits)


def ink_on_paper(tmp_path, mode: str = "L"):
    """A 32x32 picture, black ink in the top-left 4x4 block and a half-inked block next to it."""
    pixels = np.full((32, 32), 255, np.uint8)
    pixels[0:4, 0:4] = 0
    pixels[0:4, 4:6] = 0
    path = tmp_path / "ink.png"
    Image.fromarray(pixels).convert(mode).save(path)
    return path


def test_image_files_are_area_averaged_and_inverted_for_dark_datasets(tmp_path):
    path = ink_on_paper(tmp_path)
    on_paper = load_image(path, (8, 8), dark=False)
    assert on_paper.shape == (8, 8)
    assert on_paper[0, 0] == 0.0 and on_paper[0, 1] == pytest.approx(0.5, abs=1 / 255) and on_paper[5, 5] == 1.0
    inverted = load_image(path, (8, 8), dark=True)
    np.testing.assert_allclose(inverted, 1.0 - on_paper)
    assert load_image(ink_on_paper(tmp_path, "RGB"), (4, 4, 3)).shape == (4, 4, 3)


def test_transparent_areas_are_paper(tmp_path):
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[4:12, 4:12] = (0, 0, 0, 255)  # opaque black ink on a fully transparent (black) canvas
    path = tmp_path / "transparent.png"
    Image.fromarray(rgba, "RGBA").save(path)
    picture = load_image(path, (16, 16), dark=True)
    assert picture[0, 0] == 0.0 and picture[8, 8] == 1.0


def test_a_file_is_predicted_like_the_same_drawn_picture(digits, tmp_path):
    path = ink_on_paper(tmp_path)
    from_file = predict_file(digits, path)
    drawn = predict_pixels(digits, load_image(path, (8, 8), dark=True))
    np.testing.assert_allclose(from_file.probabilities, drawn.probabilities)
    assert from_file.image[0, 0] == 1.0  # inverted: ink is bright, like the training digits


def test_unreadable_files_and_non_pictures_are_clear_errors(digits, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(DatasetError, match="cannot read .*notes.png as an image"):
        predict_file(digits, bad)
    points = ModelSnapshot(digits.project, digits.model, digits.data, image_shape=None)  # as 2-D points report
    with pytest.raises(DatasetError, match="not pictures"):
        predict_file(points, ink_on_paper(tmp_path))
