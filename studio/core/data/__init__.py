"""Datasets behind one registry, with seeded splits and preprocessing fitted on the training split.

Importing this package registers every dataset type (bundled digits, synthetic sets,
torchvision sets, image folders, CSV files) in :data:`DATASETS`.
"""

from studio.core.data import bundled, csv_file, image_folder, synthetic, vision  # noqa: F401  (registers the dataset types)
from studio.core.data.prepare import describe, prepare_data, preview
from studio.core.data.preprocess import PREPROCESSINGS, Moments, Preprocessing, PreprocessingType
from studio.core.data.types import (
    DATASETS,
    DataInfo,
    DatasetType,
    PreparedData,
    Preview,
    Progress,
    RawData,
    RawStream,
    StaticInfo,
)

__all__ = [
    "DATASETS",
    "PREPROCESSINGS",
    "DataInfo",
    "DatasetType",
    "Moments",
    "PreparedData",
    "Preprocessing",
    "PreprocessingType",
    "Preview",
    "Progress",
    "RawData",
    "RawStream",
    "StaticInfo",
    "describe",
    "prepare_data",
    "preview",
]
