"""Make `cache=True` work where the installed package directory is read-only.

Numba writes its cache next to the source file, or else under the user's cache directory.
When neither is writable (a read-only site-packages and a read-only home, as in some
containers), compiling with `cache=True` would fail at import, so we point Numba at a
private temporary directory instead. An explicit NUMBA_CACHE_DIR is always respected.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _is_writable_dir(path: Path) -> bool:
    # os.access is not enough: it says yes to root on a read-only mount.
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
        return True
    except OSError:
        return False


def ensure_numba_cache_dir() -> None:
    """Set Numba's cache directory to a writable place if its own choices are not writable."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    in_tree = Path(__file__).resolve().parent / "__pycache__"
    user_wide = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "numba"
    if _is_writable_dir(in_tree) or _is_writable_dir(user_wide):
        return
    fallback = Path(tempfile.gettempdir()) / f"minembed-numba-cache-{os.getuid()}"
    fallback.mkdir(parents=True, exist_ok=True)
    from numba.core import config

    config.CACHE_DIR = str(fallback)
