"""Files that matter: atomic writes with the user's permissions, and reads that cannot run away.

Writes go to a temporary file in the same folder (same file system), are flushed and fsynced,
then ``os.replace``d over the target, which is atomic on POSIX and Windows: a crash or kill at
any moment leaves either the old file or the new one. ``mkstemp`` creates its file as 0600;
the result gets the mode a plain ``open()`` would give (0666 less the umask), or keeps the mode
of the file it replaces, so a shared folder stays shared and a private file stays private.

Reads of files a user names (projects, CSV tables) go through :func:`read_bounded`: a device
such as ``/dev/zero``, a folder or a pipe is refused before a byte is read, and so is a file
over the caller's size limit, instead of reading until memory runs out.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from studio.core.errors import ProjectFileError, StudioError

MB = 1024 * 1024


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux: /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it (briefly) and put it back
    os.umask(mask)
    return mask


def default_mode(directory: bool = False) -> int:
    """The permissions ``open()`` (0666) or ``mkdir()`` (0777) would give a new entry under the umask."""
    return (0o777 if directory else 0o666) & ~current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on error it is removed.

    Use it for writers that want a file name (``torch.save``, ``safetensors``, ONNX export);
    ``suffix`` is the temporary file's ending, for writers that pick the format from it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp_path, _mode_for(target))
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    """The mode of the file being replaced, else the umask's default for a new file."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return default_mode()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def file_size(path: str | os.PathLike[str], what: str, error: type[StudioError] = ProjectFileError) -> int:
    """The size of ``path``, which must be a regular file (not a device, folder or pipe), else ``error``."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path} is {_kind(info.st_mode)}, not {_a(what)}; choose a regular file")
    return info.st_size


def read_bounded(
    path: str | os.PathLike[str], limit: int, what: str, error: type[StudioError] = ProjectFileError
) -> bytes:
    """The bytes of the regular file ``path``, refused (as ``error``) when it is not one or exceeds ``limit``.

    ``what`` names the file in messages ("project file", "CSV file"). The size is checked before
    reading and again while reading, so a file that grows in between cannot slip past the limit.
    """
    path = Path(path)
    size = file_size(path, what, error)
    if size > limit:
        raise error(_too_large(path, size, limit, what))
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise error(_too_large(path, len(data), limit, what))
    return data


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a pipe or socket"


def _too_large(path: Path, size: int, limit: int, what: str) -> str:
    return f"{path} is {size / MB:,.1f} MB; {_a(what)} may be at most {limit / MB:,.0f} MB, so it was not read"


def _a(what: str) -> str:
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"
