"""A checksum of what a weights file holds, computed over the loaded values, not over the file's bytes.

``torch.save`` writes a zip whose entries carry CRC-32 sums, but ``torch.load`` never checks them,
and which bytes matter depends on how the reader interprets the container: a flipped bit in a zip
directory field can change what torch reads while every CRC still passes. So the sum is taken over
the *values* (every tensor's dtype, shape and bytes; every key, number and string, in order) when a
file is written, stored inside it, and taken again over what was read: any change the reader sees
is a mismatch, and a change it does not see (padding, unused fields) changed nothing.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any

import torch

ALGORITHM = "sha256"


def checksum(obj: Any) -> str:
    """``"sha256:<hex>"`` of ``obj``: nested dicts, lists, tuples, tensors, strings, bytes, numbers, None."""
    digest = hashlib.new(ALGORITHM)
    _feed(digest, obj)
    return f"{ALGORITHM}:{digest.hexdigest()}"


def _feed(digest: Any, obj: Any) -> None:
    """Add ``obj`` with a type tag and a length, so that different structures never hash alike."""
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu().contiguous()
        _tag(digest, b"T", f"{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(obj, Mapping):
        _tag(digest, b"D", b"%d" % len(obj))
        for key, value in obj.items():
            _feed(digest, key)
            _feed(digest, value)
    elif isinstance(obj, (list, tuple)):
        _tag(digest, b"L" if isinstance(obj, list) else b"U", b"%d" % len(obj))
        for value in obj:
            _feed(digest, value)
    elif isinstance(obj, str):
        _tag(digest, b"S", obj.encode("utf-8", "surrogatepass"))
    elif isinstance(obj, bytes):
        _tag(digest, b"B", obj)
    elif isinstance(obj, float):
        _tag(digest, b"F", struct.pack("<d", obj))
    elif obj is None or isinstance(obj, (bool, int, torch.dtype, torch.device)):
        _tag(digest, type(obj).__name__.encode(), repr(obj).encode())
    else:
        raise TypeError(f"cannot take the checksum of a {type(obj).__name__}")


def _tag(digest: Any, kind: bytes, data: bytes) -> None:
    digest.update(kind + struct.pack("<Q", len(data)))
    digest.update(data)
