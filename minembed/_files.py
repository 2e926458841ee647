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
import tempfile
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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _new_file_mode())  # mkstemp makes it 0600; give it the mode open() would
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


def _new_file_mode() -> int:
    """The permission bits open() gives a new file: 0o666 less the process's umask."""
    umask = os.umask(0o022)  # the only way to read the umask is to set it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask
