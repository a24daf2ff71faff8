"""Atomic writes of files and folders: a reader sees the old version or the new one, never half of either.

Standard library only, so every stage and orchestrator may use it (``docs/architecture.md``).

Files
-----
:func:`atomic_path` yields a temporary path in the target's folder; when the block ends without an error the file is
flushed to disk (``fsync``) and renamed onto the target with ``os.replace`` (atomic on POSIX and Windows), and the
folder's entry is synced. On any error (Ctrl-C included) the temporary file is removed and the target is untouched.
:func:`write_bytes` and :func:`write_text` are the one-call forms.

Folders
-------
:func:`atomic_dir` yields an empty temporary folder beside the target; when the block ends without an error its files
are synced and :func:`replace_dir` puts it in place of the target:

- no target yet: one ``rename``;
- a target to replace, on Linux: ``renameat2(RENAME_EXCHANGE)`` (through ``ctypes``) swaps the two folders in one
  step, so the target path always holds a complete folder; the old one, now at the temporary name, is then removed;
- where the exchange is unsupported (another OS, a file system without it): the **fallback** renames the old folder
  to a hidden sibling ``.<name>.<32 hex>.old``, renames the new one into place and removes the old one. An error
  between the two renames (an exception, Ctrl-C) renames the old folder back before it propagates. Only a hard crash
  (power loss, SIGKILL) between the two renames can leave the target missing, with the old folder complete beside it:
  :func:`recover_dir` renames it back, and readers call it first (``signalbench.signals.load`` does).

Errors
------
A writer that fails (a full disk, a file too large for the file system, no permission, a folder in the way) has
changed nothing at the target; :func:`write_error` turns the failure into an ``OSError`` that names the path and says
so (``signalbench.signals`` saving a model and exporting ONNX raise it).

Temporary names start with a dot and the target's name (``.<name>.<random>.tmp``). They are removed on every error;
only a hard crash can leave one behind, and it is never mistaken for the target.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import re
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_dir",
    "atomic_path",
    "exchange",
    "recover_dir",
    "replace_dir",
    "write_bytes",
    "write_error",
    "write_text",
]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# errno values meaning "this kernel or file system cannot exchange": fall back to the two-rename replace
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


# ---------------------------------------------------------------------------------------------------------------------
# Primitives
# ---------------------------------------------------------------------------------------------------------------------


@functools.cache
def _renameat2():
    """The C library's ``renameat2`` (Linux, glibc >= 2.28), or None where it cannot be had."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Parameters
    ----------
    a, b : str or os.PathLike
        Two existing paths on one file system.

    Returns
    -------
    bool
        True when swapped; False when this system or file system cannot do it (nothing was changed).

    Raises
    ------
    OSError
        For any other failure (a path missing, permissions, ...).
    """
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), os.fspath(a), None, os.fspath(b))


def _fsync_path(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to disk."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except (IsADirectoryError, PermissionError):  # folders cannot be opened on some systems: nothing to sync there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder))


def _discard(path: Path) -> None:
    """Remove a temporary file or folder, retrying once; then warn naming what is left (never raises OSError).

    A Ctrl-C during the removal does not stop it: the removal is retried and the ``KeyboardInterrupt`` re-raised
    afterwards.
    """
    interrupted: BaseException | None = None
    for _ in range(2):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            break
        except FileNotFoundError:
            break
        except OSError:
            continue
        except KeyboardInterrupt as exc:
            interrupted = exc
    else:
        warnings.warn(f"could not remove the temporary {path}; delete it by hand", RuntimeWarning, stacklevel=3)
    if interrupted is not None:
        raise interrupted


def _old_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.old")


def _old_pattern(path: Path) -> re.Pattern:
    return re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{32}}\.old")


# ---------------------------------------------------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------------------------------------------------


def replace_dir(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Move the folder ``src`` to ``dst``, replacing ``dst`` if it exists, so that ``dst`` holds old or new.

    See the module docstring for the exchange and the fallback. ``src`` and ``dst`` must be on one file system
    (make ``src`` beside ``dst``).

    Parameters
    ----------
    src : str or os.PathLike
        The complete new folder (it is gone afterwards).
    dst : str or os.PathLike
        Where it goes.
    """
    src, dst = Path(src), Path(dst)
    if not os.path.lexists(dst):
        os.rename(src, dst)
    elif exchange(src, dst):
        _discard(src)  # the old folder, now under the temporary name
    else:
        old = _old_name(dst)
        os.rename(dst, old)
        try:
            os.rename(src, dst)
        except BaseException:
            os.rename(old, dst)  # roll back: the old folder is at dst again
            raise
        _discard(old)
    _fsync_path(dst.parent)


def recover_dir(path: str | os.PathLike) -> bool:
    """Undo a replace that a hard crash cut between its two renames (fallback only).

    When ``path`` is missing and a hidden ``.<name>.<32 hex>.old`` sibling exists (the newest, if several), it is
    renamed back to ``path``. Nothing happens when ``path`` exists.

    Parameters
    ----------
    path : str or os.PathLike
        The folder a reader is about to open.

    Returns
    -------
    bool
        True when a folder was put back.
    """
    path = Path(path)
    if os.path.lexists(path) or not path.parent.is_dir():
        return False
    pattern = _old_pattern(path)
    olds = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir()]
    if not olds:
        return False
    newest = max(olds, key=lambda p: p.stat().st_mtime_ns)
    os.rename(newest, path)
    return True


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary name and put it at ``path`` in one step when the block succeeds.

    Parameters
    ----------
    path : str or os.PathLike
        The folder to create (or replace).
    overwrite : bool, default False
        Replace an existing ``path``; otherwise an existing ``path`` is a ``FileExistsError`` (before anything is
        written, and again at the end if it appeared meanwhile).

    Yields
    ------
    pathlib.Path
        An empty folder beside ``path``: write everything into it.
    """
    path = Path(path)
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _fsync_tree(tmp)
        if not overwrite and os.path.lexists(path):
            raise FileExistsError(f"{path} appeared while it was being written; not replacing it")
        replace_dir(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


# ---------------------------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path``; on success it is synced and renamed onto ``path`` (``os.replace``).

    For writers that take a file name (``torch.onnx.export``, ``DataFrame.to_parquet``, ...).

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.

    Yields
    ------
    pathlib.Path
        An empty file in the same folder: write the whole content to it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the file gets what open() would have given it
    try:
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    _fsync_path(path.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`); return ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_path`); return ``path``."""
    return write_bytes(path, text.encode(encoding))


def write_error(path: str | os.PathLike, exc: BaseException, existed: bool) -> OSError:
    """The ``OSError`` of a failed atomic write of ``path``: names the path, why, and that the old version is intact.

    Parameters
    ----------
    path : str or os.PathLike
        The file or folder that was being written.
    exc : BaseException
        The failure (an ``OSError``, or the ``RuntimeError`` torch raises when its writer hits a full disk).
    existed : bool
        Whether ``path`` existed before the write (then it is intact), else nothing was written there.

    Returns
    -------
    OSError
        With ``exc``'s ``errno`` when it has one; raise it ``from exc``.
    """
    path = Path(path)
    left = f"the old {path.name} is intact" if existed else f"nothing was written at {path}"
    reason = f"{type(exc).__name__} ({exc})"
    text = f"{path.name}: expected room to write it, got {reason} at {path}; {left}; free space or choose another path"
    code = getattr(exc, "errno", None)
    return OSError(code, text) if isinstance(code, int) else OSError(text)
