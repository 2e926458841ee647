"""BPE training's two builds of the same kernels: ahead-of-time (no Numba at run time) and JIT."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minembed.tokenizers import train_kernels
from minembed.tokenizers.pretokenize import gpt4_classes

HAS_C_COMPILER = any(os.access(os.path.join(d, cc), os.X_OK)
                     for d in os.environ.get("PATH", "").split(os.pathsep) for cc in ("cc", "gcc"))


def _run(script: str, **env) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def aot():
    kernels = train_kernels.aot_kernels()
    if kernels is None and not HAS_C_COMPILER:
        pytest.skip("no C compiler here: the ahead-of-time build cannot be made (training uses the JIT kernels)")
    assert kernels is not None, train_kernels.aot_failure
    return kernels


def _count(kernels, text: str):
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    state = (np.full(1 << 12, -1, np.int32), np.empty(1 << 16, np.uint8), np.zeros((1 << 11) + 1, np.int64),
             np.zeros(1 << 11, np.int64), np.zeros(1 << 11, np.int64), 0)
    *state, seen = kernels.count_gpt4(data, np.array([data.shape[0]], np.int64), gpt4_classes(), *state)
    table, arena, starts, counts, hashes, n = state
    return arena[: starts[n]].astype(np.int32), starts[: n + 1].copy(), counts[:n].copy(), seen


def test_ahead_of_time_build_equals_jit_kernels(aot, corpora):
    jit = train_kernels.jit_kernels()
    text = corpora["the-verdict.txt"] + corpora["taylorswift.txt"]
    counted_aot, counted_jit = _count(aot, text), _count(jit, text)
    for a, b in zip(counted_aot, counted_jit):
        np.testing.assert_array_equal(a, b)
    tokens, offsets, counts, _ = counted_aot
    merges_aot = aot.train_merges(tokens, offsets, counts, 2000, np.zeros(1, np.int64))
    merges_jit = jit.train_merges(tokens, offsets, counts, 2000, np.zeros(1, np.int64))
    assert merges_aot.shape[0] == 2000
    np.testing.assert_array_equal(merges_aot, merges_jit)


def test_ahead_of_time_wrappers_coerce_dtypes_instead_of_crashing(aot, corpora):
    tokens, offsets, counts, _ = _count(aot, corpora["the-verdict.txt"])
    # int32 offsets would crash the raw exported function; the wrapper converts them.
    merges = aot.train_merges(tokens, offsets.astype(np.int32), counts, 50, np.zeros(1, np.int64))
    np.testing.assert_array_equal(merges, aot.train_merges(tokens, offsets, counts, 50, np.zeros(1, np.int64)))
    with pytest.raises(TypeError, match="progress"):
        aot.train_merges(tokens, offsets, counts, 50, np.zeros(1, np.int32))


def test_train_bpe_loads_no_numba_with_the_ahead_of_time_build(aot, shared_data):
    corpus = shared_data / "corpora" / "the-verdict.txt"
    script = f"""
        import sys
        from minembed import train_bpe
        from minembed.tokenizers.train_kernels import training_kernels
        enc = train_bpe(open({str(corpus)!r}, encoding="utf-8").read(), 400)
        print(training_kernels().kind, "numba" in sys.modules, enc.n_vocab)
    """
    assert _run(script) == "aot False 400"
    assert _run(script, MINEMBED_TRAIN_AOT="0") == "jit True 400"


def test_an_impossible_build_falls_back_to_the_jit_kernels(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    script = """
        from minembed.tokenizers import train_kernels
        from minembed import train_bpe
        enc = train_bpe("low lower lowest " * 20, 260)
        print(train_kernels.training_kernels().kind, train_kernels.aot_failure is not None, enc.n_vocab)
    """
    assert _run(script, MINEMBED_CACHE_DIR=str(blocker)) == "jit True 260"

