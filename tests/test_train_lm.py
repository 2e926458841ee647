"""train_lm end to end on the sample text: it learns, logs, samples and finds neighbours; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from minembed.demos.sample_text import SAMPLE_TEXT
from minembed.models import TinyLM, train_lm
from minembed.models.train_lm import nearest_neighbours


@pytest.mark.parametrize("sparse", [False, True])
def test_train_lm_learns_and_reports(sparse):
    lines = []
    result = train_lm(
        SAMPLE_TEXT,
        steps=40,
        vocab_size=300,
        d_model=16,
        context_length=16,
        batch_size=8,
        lr=2e-2,
        sparse=sparse,
        log=lines.append,
        progress=False,
    )
    assert isinstance(result.model, TinyLM) and result.model.sparse == sparse
    assert len(result.losses) == 40
    assert np.mean(result.losses[-5:]) < 0.8 * np.mean(result.losses[:5])
    assert any(line.startswith("step    40/40") for line in lines)
    assert any("sample before" in line for line in lines) and any("sample after" in line for line in lines)
    assert isinstance(result.sample_after, str) and result.sample_after
    assert len(result.neighbours) == 4
    assert all(len(near) == 5 for near in result.neighbours.values())
    assert result.encoding.n_vocab == result.model.vocab_size == 300


def test_nearest_neighbours_ranks_by_cosine():
    table = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0], [0.0, 1.0]])
    near = nearest_neighbours(table, 0, k=3)
    assert [i for i, _ in near] == [1, 3, 2]
    assert near[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1))


def test_train_lm_refuses_bad_input():
    with pytest.raises(ValueError, match="steps"):
        train_lm(SAMPLE_TEXT, steps=0, log=None)
    with pytest.raises(ValueError, match="context_length"):
        train_lm("tiny text", steps=2, vocab_size=260, context_length=64, log=None)
    with pytest.raises(TypeError, match="iterable of str"):
        train_lm([b"bytes"], steps=2, log=None)
