"""tiktoken, made to work offline from the shared encoding files.

`get_encoding(name)` builds tiktoken's cache (once per process) with the shared tool and
points TIKTOKEN_CACHE_DIR at it before tiktoken is asked for anything.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile

from reference.shared import tiktoken_cache_tool


@functools.lru_cache(maxsize=1)
def offline_cache_dir() -> str:
    """Build tiktoken's offline cache and export it as TIKTOKEN_CACHE_DIR; returns the path."""
    target = os.path.join(tempfile.gettempdir(), f"minembed-tiktoken-cache-{os.getuid()}")
    out = subprocess.run(
        [sys.executable, str(tiktoken_cache_tool()), target],
        check=True, capture_output=True, text=True,
    )
    path = out.stdout.strip()
    os.environ["TIKTOKEN_CACHE_DIR"] = path
    return path


@functools.lru_cache(maxsize=None)
def get_encoding(name: str):
    """tiktoken's Encoding `name`, loaded from the shared files with no network."""
    offline_cache_dir()
    import tiktoken

    return tiktoken.get_encoding(name)
