"""Files and folders: atomic writes, capped reads, and the temporary folders a build leaves behind.

Every writer in :mod:`geo_coverage.io` ends here: it writes a temporary file beside the target and
renames it into place, so a failure never leaves a half-written file and never touches an input.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import DataError

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_UNPACKED_BYTES",
    "atomic_path",
    "atomic_directory",
    "clean_stale_builds",
    "write_bytes",
    "write_text",
    "read_bytes",
    "read_upload",
    "copy_file",
]

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    Parameters
    ----------
    target
        The file to write.  Its folder must exist.
    suffix
        Suffix of the temporary file (some writers pick the format from it); default: the
        target's own.

    Yields
    ------
    pathlib.Path
        Where to write.  On any exception it is removed and ``target`` is left as it was.
    """
    target = Path(target)
    if target.parent and not target.parent.exists():
        raise DataError(f"The folder '{target.parent}' does not exist.", file=target,
                        fix="Create the folder first or choose another --out path.")
    if target.is_dir():
        raise DataError("This is a folder, not a file: the output needs a file name.", file=target,
                        fix=f"Name a file inside it, e.g. --out {target / ('result' + (suffix or '.csv'))}.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp",
                                   dir=target.parent or ".")
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:  # a full disk, a read-only or special file system: nothing half-written
        raise _cannot_write(target, exc) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _cannot_write(target: Path, exc: OSError) -> DataError:
    reason = exc.strerror or type(exc).__name__
    return DataError(f"Cannot write the file here ({reason}); nothing was written.", file=target,
                     fix="Choose an --out path in a folder you can write to, with free space.")


def write_bytes(data: bytes, target: str | Path) -> Path:
    """Write ``data`` to ``target`` atomically.

    Parameters
    ----------
    data
        The file's content.
    target
        The file to write (replaced in one rename when it exists).

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(text: str, target: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically, encoded as ``encoding`` (see :func:`write_bytes`)."""
    return write_bytes(text.encode(encoding), target)


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes (e.g. a vendored JavaScript asset); a missing file is a DataError.

    Parameters
    ----------
    path
        A file shipped with the package.

    Returns
    -------
    bytes
        Its content.
    """
    path = Path(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror}).", file=path,
                        fix="Reinstall the package so its data files are present.") from None


def read_upload(path: str | Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """A planner's file as bytes, refusing files larger than ``max_bytes`` before reading them.

    Parameters
    ----------
    path
        The planner's file.
    max_bytes
        The largest file read.

    Returns
    -------
    bytes
        Its content.

    Raises
    ------
    DataError
        The path is missing, a folder, too large or unreadable (the message says which).
    """
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise DataError("This is a folder, not a file.", file=path, fix="Pass the file itself.")
        raise DataError("File not found." if not path.exists() else "Not a file.", file=path,
                        fix="Check the path.")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"The file is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.1f} MB allowed.",
                        file=path, fix="Split the file or remove columns that are not needed.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror or exc}).", file=path,
                        fix="Check that the file is readable (its permissions) and not locked by another "
                            "program.") from None


def copy_file(source: str | Path, target: str | Path) -> Path:
    """Copy a file's bytes (atomically at the target); returns ``target``."""
    return write_bytes(read_bytes(source), target)


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary sibling folder; on success it replaces ``target`` in one rename.

    On any failure the temporary folder is removed and an existing ``target`` stays as it was.
    The temporary folders' names carry the process id (``.NAME.building-PID-xxxx``), so folders a
    killed run left behind are recognised and cleaned by the next run (:func:`clean_stale_builds`).

    Parameters
    ----------
    target
        The folder to build.  Its parent must exist; an existing file there is refused.

    Yields
    ------
    pathlib.Path
        The folder to fill.
    """
    target = Path(target).absolute()
    if not target.parent.exists():
        raise DataError(f"The folder '{target.parent}' does not exist.", file=target,
                        fix="Create the parent folder first or choose another --out path.")
    clean_stale_builds(target)
    if target.exists() and not target.is_dir():
        raise DataError("The output path exists and is not a folder.", file=target,
                        fix="Choose another --out path.")
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-{os.getpid()}-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    building.chmod(0o777 & ~umask)  # mkdtemp makes it private; a data folder is an ordinary folder
    try:
        yield building
        _swap_in(building, target)
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)


def _swap_in(building: Path, target: Path) -> None:
    """Rename ``building`` onto ``target``, putting the previous folder back if that fails."""
    if not target.exists():
        os.replace(building, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
    os.replace(target, old / "previous")
    try:
        os.replace(building, target)
    except OSError:
        os.replace(old / "previous", target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but another user's
        return True
    return True


def clean_stale_builds(target: str | Path) -> list[Path]:
    """Remove the temporary siblings a killed run of :func:`atomic_directory` left beside ``target``.

    A folder (``.NAME.building-*``, ``.NAME.old-*``) is stale when the process its name records
    has ended (or its name records none: an older version's).  Folders of running processes, this
    one included, are left alone.  A run killed between its two renames leaves ``target`` missing
    and the previous folder in ``.NAME.old-*/previous``: that folder is put back first.

    Parameters
    ----------
    target
        The folder :func:`atomic_directory` builds.

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    target = Path(target).absolute()
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(building|old)-(?:(\d+)-)?[^/]*$")
    removed: list[Path] = []
    try:
        siblings = sorted(target.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        match = pattern.match(sibling.name)
        if not match or not sibling.is_dir() or sibling.is_symlink():
            continue
        pid = match.group(2)
        if pid is not None and (int(pid) == os.getpid() or _process_alive(int(pid))):
            continue
        previous = sibling / "previous"
        if match.group(1) == "old" and previous.is_dir() and not target.exists():
            os.replace(previous, target)
        shutil.rmtree(sibling, ignore_errors=True)
        removed.append(sibling)
    return removed
