"""Where the read-only shared material lives (corpora, encoding files, tools).

`MINEMBED_SHARED_DATA` overrides the data directory; by default it is `../shared/data`
next to the project's root, as on the developers' machines and in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """The shared data directory (holds `corpora/` and `encodings/`)."""
    override = os.environ.get("MINEMBED_SHARED_DATA")
    path = Path(override) if override else PROJECT_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        raise FileNotFoundError(
            f"shared data directory not found at {path}; set MINEMBED_SHARED_DATA to the folder "
            "that holds corpora/ and encodings/"
        )
    return path


def corpus_paths() -> list[Path]:
    """Every text file in the shared corpora, sorted by name."""
    return sorted((shared_data_dir() / "corpora").glob("*.txt"))


def encodings_dir() -> Path:
    """The shared encoding files, laid out as minembed's MINEMBED_ENCODINGS_DIR expects."""
    return shared_data_dir() / "encodings"


def tiktoken_cache_tool() -> Path:
    """The script that builds tiktoken's offline cache from the shared encoding files."""
    return shared_data_dir().parent / "tools" / "tiktoken_cache.py"
