"""Exporting a trained network: weights (state_dict, safetensors), graphs (torch.export, TorchScript,
ONNX), readable Python (model.py + train.py) and a bundle of all of them with a model card.

``export(source, fmt, out)`` writes one format and verifies it on real inputs with the format's
real consumer before it moves the result into place. Importing this package registers every
format in :data:`EXPORTERS`, in menu order.
"""

# Registration order is the menu order, so these imports are deliberately not sorted.
from studio.core.export import weights  # noqa: F401, I001
from studio.core.export import graphs, onnx, codegen, bundle  # noqa: F401
from studio.core.export.formats import (
    EXPORTERS,
    DestinationTaken,
    ExportFormat,
    ExportReport,
    check_destination,
    export,
)
from studio.core.export.source import ExportSource, open_source
from studio.core.export.verify import TOLERANCE, ExportError

__all__ = [
    "EXPORTERS",
    "TOLERANCE",
    "DestinationTaken",
    "ExportError",
    "ExportFormat",
    "ExportReport",
    "ExportSource",
    "check_destination",
    "export",
    "open_source",
]
