"""Inspect and try a trained model: metrics, confusion galleries, decision boundaries, activations,
predictions for new inputs and reports. Qt-free; the views live in ``studio.ui.inspect``.
"""

from studio.core.inspect.activations import LayerActivation, WeightImages, first_layer_weights, layer_activations
from studio.core.inspect.boundary import (
    BoundaryGrid,
    PointSet,
    RegressionFit,
    boundary_grid,
    is_curve,
    is_planar,
    point_set,
    regression_fit,
)
from studio.core.inspect.evaluation import Evaluation, Samples, evaluate_classifier, validation_samples
from studio.core.inspect.gallery import GalleryItem, cell_examples, top_classes
from studio.core.inspect.live import InspectCallback
from studio.core.inspect.metrics import MetricsReport, confusion_matrix, metrics_report
from studio.core.inspect.predict import (
    Prediction,
    load_image,
    predict_drawing,
    predict_file,
    predict_pixels,
    predict_sample,
)
from studio.core.inspect.snapshot import ModelSnapshot, class_probabilities

__all__ = [
    "BoundaryGrid",
    "Evaluation",
    "GalleryItem",
    "InspectCallback",
    "LayerActivation",
    "MetricsReport",
    "ModelSnapshot",
    "PointSet",
    "Prediction",
    "RegressionFit",
    "Samples",
    "WeightImages",
    "boundary_grid",
    "cell_examples",
    "class_probabilities",
    "confusion_matrix",
    "evaluate_classifier",
    "first_layer_weights",
    "is_curve",
    "is_planar",
    "layer_activations",
    "load_image",
    "metrics_report",
    "point_set",
    "predict_file",
    "predict_drawing",
    "predict_pixels",
    "predict_sample",
    "regression_fit",
    "top_classes",
    "validation_samples",
]
