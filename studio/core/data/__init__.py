"""Datasets behind one registry, with seeded splits and preprocessing fitted on the training split.

Importing this package registers every dataset type in :data:`DATASETS`, in the order the GUI
lists them: bundled digits, synthetic sets, torchvision sets, image folders, CSV files.
"""

from studio.core.data import bundled, csv_file, image_folder, synthetic, table, vision
from studio.core.data.prepare import describe, prepare_data, preview
from studio.core.data.preprocess import PREPROCESSINGS, Moments, Preprocessing, PreprocessingType
from studio.core.data.types import (
    DATASETS,
    DataInfo,
    DatasetType,
    PreparedData,
    Preview,
    RawData,
    RawStream,
    StaticInfo,
)

for _module in (bundled, synthetic, table, vision, image_folder, csv_file):
    for _dataset in _module.DATASET_TYPES:
        DATASETS.register(_dataset.name, _dataset)

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
    "RawData",
    "RawStream",
    "StaticInfo",
    "describe",
    "prepare_data",
    "preview",
]
