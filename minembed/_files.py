"""Writing files so that a failure never leaves a half-written one behind.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_write(folder / "hello.txt", "w") as f:
...     _ = f.write("hello")
>>> (folder / "hello.txt").read_text(), sorted(p.name for p in folder.iterdir())
('hello', ['hello.txt'])
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, fsync: bool = False, **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing; on success it replaces `path` in one rename.

    `mode` is "wb" or "w" (text mode takes `encoding`, `newline`, ... as in `open`; the default
    encoding is UTF-8). Any exception in the block, KeyboardInterrupt included, removes the
    temporary file and leaves `path` as it was. `fsync=True` flushes the data to disk before
    the rename, for files that must survive a crash of the machine.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got mode={mode!r}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {path.parent} of {path} does not exist; create it first")
    if mode == "w":
        open_kwargs.setdefault("encoding", "utf-8")
    fd, tmp = _create_temporary_beside(path)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _create_temporary_beside(path: Path) -> tuple[int, Path]:
    """(fd, path) of a new file `.<name>.<random>.tmp` in path's folder, open for writing.

    Created with mode 0o666 and O_EXCL, so the kernel applies the process's umask exactly as
    open() does for a new file (tempfile.mkstemp would make it 0600), and no other file is reused.
    """
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:  # a name drawn twice: draw again
            continue
