"""minembed's own cache directory (downloaded encoding files)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$MINEMBED_CACHE_DIR`, else `$XDG_CACHE_HOME/minembed`, else `~/.cache/minembed`."""
    if os.environ.get("MINEMBED_CACHE_DIR"):
        return Path(os.environ["MINEMBED_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minembed"
