# SPDX-License-Identifier: MIT
"""Writing the files a user names (``--html``, ``--events``, ``-o``): nothing
half-written, nothing clobbered by surprise.

Every output goes to a temporary file in the target's own directory, is
flushed and fsync'ed, and only then renamed over the target with
``os.replace``.  A crash, a full disk or Ctrl-C part-way leaves the previous
file as it was (a ``kill -9`` may leave a ``.NAME.*.part`` file beside it,
never a truncated NAME).  Before anything is written, and before any long
work starts, :func:`check` refuses, as one error line (exit 2):

- a path that is a directory, or whose parent directory is missing or not
  writable;
- a path that is one of the command's inputs (``parse t.strace --events
  t.strace`` would destroy the trace it reads);
- a path that is a symbolic link: a link planted where the output goes
  (``/tmp/report.html -> ~/.bashrc``) is never written through.  Links to a
  pipe or a character device (``/dev/stdout``, ``/dev/null``, a shell's
  ``>(...)``) are the exception: those are written in place, as a stream,
  since a pipe cannot be replaced and replacing ``/dev/null`` would be wrong.

The rename itself never follows a link either: if one appears between the
check and the rename, the link is replaced, not its target.
"""
from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator

from shimsim.errors import ShimsimError

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import IO, Any


class OutputError(ShimsimError):
    """An output path that cannot or must not be written."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"cannot write {path}: {message}")


def _stream_target(st: os.stat_result) -> bool:
    """A pipe or character device: written in place, never replaced."""
    return stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)


def check(path: Any, inputs: Iterable[Any] = ()) -> str:
    """Validate an output path before any work is done; the path as a string.

    Raises :class:`OutputError` (exit 2) with a one-line reason."""
    p = os.fspath(path)
    if not p:
        raise OutputError("''", "an empty file name")
    try:
        lst = os.lstat(p)
    except FileNotFoundError:
        lst = None
    except OSError as exc:  # ELOOP, ENOTDIR, EACCES on a parent, ENAMETOOLONG
        raise OutputError(p, exc.strerror or str(exc)) from None
    if lst is not None:
        if stat.S_ISLNK(lst.st_mode):
            try:
                st = os.stat(p)
            except OSError:
                st = None
            if st is None or not _stream_target(st):
                raise OutputError(p, "it is a symbolic link (refusing to write through it; "
                                     "remove it or name its target)")
        elif stat.S_ISDIR(lst.st_mode):
            raise OutputError(p, "it is a directory (expected a file name)")
        elif not (stat.S_ISREG(lst.st_mode) or _stream_target(lst)):
            raise OutputError(p, "it is not a regular file")
        for inp in inputs:
            try:
                same = os.path.samefile(p, os.fspath(inp))
            except (OSError, ValueError):
                same = False
            if same:
                raise OutputError(p, "it is also an input of this command (refusing to overwrite it)")
    parent = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(parent):
        raise OutputError(p, f"no such directory {parent}")
    if lst is None or not stat.S_ISLNK(lst.st_mode):
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(p, f"directory {parent} is not writable")
    return p


def _is_stream(p: str) -> bool:
    try:
        return _stream_target(os.stat(p))
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(d: str) -> None:
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def reserve(path: Any, inputs: Iterable[Any] = ()) -> Iterator[str]:
    """A temporary path beside PATH for another program to write (strace -o);
    renamed over PATH when the block ends without an exception, removed otherwise."""
    p = check(path, inputs)
    if _is_stream(p):
        yield p
        return
    parent = os.path.dirname(os.path.abspath(p))
    try:
        import tempfile     # only when writing (start-up, issue 17: tempfile pulls in shutil, random)

        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(p)}.", suffix=".part")
    except OSError as exc:
        raise OutputError(p, exc.strerror or str(exc)) from None
    os.close(fd)
    try:
        yield tmp
        _commit(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _commit(tmp: str, p: str) -> None:
    try:
        st = os.stat(p)  # keep an existing file's permissions
        mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except OSError as exc:
        raise OutputError(p, exc.strerror or str(exc)) from None
    _fsync_dir(os.path.dirname(os.path.abspath(p)))


class _Writer:
    """The open file, with write errors (ENOSPC, EIO, EFBIG) naming the output."""

    def __init__(self, f: IO[Any], path: str) -> None:
        self._f = f
        self._path = path

    def write(self, data: Any) -> int:
        try:
            return self._f.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(self._path, exc.strerror or str(exc)) from None

    def writelines(self, lines: Iterable[Any]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._f.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(self._path, exc.strerror or str(exc)) from None


@contextlib.contextmanager
def atomic(path: Any, inputs: Iterable[Any] = (), binary: bool = False) -> Iterator[Any]:
    """Open PATH for writing all-or-nothing: ``with atomic(p) as f: f.write(...)``.

    Text is UTF-8 with surrogateescape (trace bytes that are not UTF-8 come
    back out as they went in).  The file appears under its name, complete,
    only when the block ends without an exception; a write error is an
    :class:`OutputError` naming the file."""
    p = check(path, inputs)
    kw: dict[str, Any] = {} if binary else {"encoding": "utf-8", "errors": "surrogateescape", "newline": ""}
    mode = "wb" if binary else "w"
    stream = _is_stream(p)
    with contextlib.ExitStack() as stack:
        tmp = p if stream else stack.enter_context(reserve(p))
        try:
            f = open(tmp, mode, **kw)
        except OSError as exc:
            raise OutputError(p, exc.strerror or str(exc)) from None
        with f:
            w = _Writer(f, p)
            yield w
            w.flush()
            if not stream:
                try:
                    os.fsync(f.fileno())
                except OSError as exc:
                    raise OutputError(p, exc.strerror or str(exc)) from None


def write_text(path: Any, text: str, inputs: Iterable[Any] = ()) -> str:
    """Write TEXT to PATH all-or-nothing; the path written."""
    with atomic(path, inputs) as f:
        f.write(text)
    return os.fspath(path)


__all__ = ["OutputError", "atomic", "check", "reserve", "write_text"]
