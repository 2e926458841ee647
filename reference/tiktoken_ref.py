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
        check=True,
        capture_output=True,
        text=True,
    )
    path = out.stdout.strip()
    os.environ["TIKTOKEN_CACHE_DIR"] = path
    return path


@functools.cache
def get_encoding(name: str):
    """tiktoken's Encoding `name`, loaded from the shared files with no network."""
    offline_cache_dir()
    import tiktoken

    return tiktoken.get_encoding(name)


def encoding_from_file(path, pat_str: str, special_tokens: dict[str, int], name: str = "from_file"):
    """A tiktoken Encoding built from a `.tiktoken` ranks file by tiktoken's own loader.

    An empty TIKTOKEN_CACHE_DIR turns tiktoken's file cache off for this read: it keys files by
    path, so a reused temporary path would otherwise return an older file's ranks.
    """
    cache = offline_cache_dir()
    import tiktoken
    import tiktoken.load

    os.environ["TIKTOKEN_CACHE_DIR"] = ""
    try:
        ranks = tiktoken.load.load_tiktoken_bpe(str(path))
    finally:
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
    return tiktoken.Encoding(name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens)
