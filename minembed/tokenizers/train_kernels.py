"""The compiled code that BPE training runs: an ahead-of-time build, or Numba's JIT kernels.

Both are the same functions, `kernels/pretokenize_gpt4.py` (split and count the pieces) and
`kernels/bpe_train.py` (the merge loop), so they give the same results. The ahead-of-time
build is a small C extension that needs only NumPy at run time: a process that trains with it
never imports Numba, whose runtime alone (about 90 MB) weighs more than training a 100 MB
corpus does. It is compiled on first use, once per version of the kernels, by
`_train_aot_build` in a subprocess (about 10 s), into minembed's cache directory. Where that
cannot be done (no C compiler, no writable cache), training quietly uses the JIT kernels.
MINEMBED_TRAIN_AOT=0 always uses the JIT kernels.
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minembed.tokenizers._train_aot_build import MODULE_NAME
from minembed.tokenizers.cache import cache_dir

_PACKAGE = Path(__file__).resolve().parent.parent
# The files whose text decides the build: a change to any of them builds anew.
_SOURCES = (
    "kernels/pretokenize_gpt4.py",
    "kernels/bpe_train.py",
    "tokenizers/_train_aot_build.py",
    "tokenizers/char_classes.py",
)


@dataclass(frozen=True)
class TrainingKernels:
    """The three entry points of BPE training, from one build."""

    kind: str  # "aot" or "jit"
    count_gpt4: Callable
    add_pieces: Callable
    train_merges: Callable


_lock = threading.Lock()
_chosen: TrainingKernels | None = None
aot_failure: str | None = None  # why the ahead-of-time build is not in use, if it is not


def training_kernels() -> TrainingKernels:
    """The ahead-of-time build if it can be had, else the JIT kernels; decided once per process."""
    global _chosen
    with _lock:
        if _chosen is None:
            aot = aot_kernels() if os.environ.get("MINEMBED_TRAIN_AOT", "1") != "0" else None
            _chosen = aot if aot is not None else jit_kernels()
        return _chosen


def jit_kernels() -> TrainingKernels:
    """The Numba JIT kernels (imports Numba)."""
    from minembed.kernels import bpe_train, pretokenize_gpt4

    return TrainingKernels("jit", pretokenize_gpt4.count_gpt4, pretokenize_gpt4.add_pieces, bpe_train.train_merges)


def aot_kernels() -> TrainingKernels | None:
    """The ahead-of-time build, compiled first if needed; None (reason in `aot_failure`) if impossible."""
    global aot_failure
    try:
        module = _load(_build_dir()) or _load(_build(_build_dir()))
    except Exception as exc:  # any failure only means: use the JIT kernels
        aot_failure = f"{type(exc).__name__}: {exc}"
        return None
    # The exported functions trust their argument types (a wrong dtype would crash the
    # process), so every array goes through np.ascontiguousarray with the kernel's dtype.
    u8, i4, i8 = np.uint8, np.int32, np.int64

    def count_gpt4(data, text_ends, classes, table, arena, starts, counts, hashes, n_pieces):
        return module.count_gpt4(
            _c(data, u8), _c(text_ends, i8), _c(classes, u8), _c(table, i4), _c(arena, u8),
            _c(starts, i8), _c(counts, i8), _c(hashes, i8), int(n_pieces),
        )

    def add_pieces(data, piece_ends, n_new, weights, table, arena, starts, counts, hashes, n_pieces):
        return module.add_pieces(
            _c(data, u8), _c(piece_ends, i8), int(n_new), _c(weights, i8), _c(table, i4), _c(arena, u8),
            _c(starts, i8), _c(counts, i8), _c(hashes, i8), int(n_pieces),
        )

    def train_merges(tokens, offsets, counts, n_merges, progress):
        # progress is written by the kernel and read by the progress bar: it must not be copied.
        if progress.dtype != np.int64 or not progress.flags.c_contiguous:
            raise TypeError("progress must be a C-contiguous int64 array")
        return module.train_merges(_c(tokens, i4), _c(offsets, i8), _c(counts, i8), int(n_merges), progress)

    return TrainingKernels("aot", count_gpt4, add_pieces, train_merges)


def _c(array, dtype) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=dtype)


def _build_dir() -> Path:
    key = hashlib.sha256()
    for source in _SOURCES:
        key.update((_PACKAGE / source).read_bytes())
    key.update(f"{sys.version}|{platform.machine()}|numba {importlib.metadata.version('numba')}".encode())
    return cache_dir() / "train-aot" / key.hexdigest()[:16]


def _load(directory: Path | None):
    """The extension module in directory, or None if there is none."""
    if directory is None or not directory.is_dir():
        return None
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = directory / (MODULE_NAME + suffix)
        if path.is_file():
            spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


def _build(target: Path) -> Path:
    """Compile into a fresh folder beside target, then rename it into place (atomic; a build
    racing in another process simply loses)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    if sys.stderr is not None and sys.stderr.isatty():
        print(f"minembed: compiling the BPE training kernels, once (about 10 s), into {target.parent}",
              file=sys.stderr)
    try:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE.parent), env.get("PYTHONPATH")]))
        done = subprocess.run(
            [sys.executable, "-m", "minembed.tokenizers._train_aot_build", str(scratch)],
            env=env, capture_output=True, text=True, timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(f"building the training kernels failed: {done.stderr.strip()[-2000:]}")
        try:
            os.replace(scratch, target)
        except OSError:
            if not target.is_dir():
                raise
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
