"""Demo stage: train a tiny language model on the sample text for a few seconds, and show what it learned.

Call `run_tiny_lm_stage()` (or `python -m minembed.demos.tiny_lm`): a BPE of 320 tokens,
a TinyLM with d_model=32 and context 16, 120 AdamW steps; the loss must fall by a quarter.
"""

from __future__ import annotations

from collections.abc import Callable

from minembed.demos.sample_text import SAMPLE_TEXT
from minembed.models.train_lm import TrainLMResult, train_lm


def run_tiny_lm_stage(
    text: str = SAMPLE_TEXT, *, steps: int = 120, log: Callable[[str], object] = print, progress: bool | None = False
) -> TrainLMResult:
    """Train, print the loss curve, samples and neighbours; check that the loss fell. Takes a few seconds."""
    result = train_lm(
        text,
        steps=steps,
        vocab_size=320,
        d_model=32,
        context_length=16,
        batch_size=16,
        lr=2e-2,
        log=log,
        progress=progress,
    )
    first, last = sum(result.losses[:5]) / 5, sum(result.losses[-5:]) / 5
    ok = last < 0.75 * first
    log(f"   check: the loss fell by a quarter or more ({first:.3f} -> {last:.3f}): {'ok' if ok else 'FAILED'}")
    if not ok:
        raise AssertionError(f"tiny LM demo: the loss did not fall enough ({first:.3f} -> {last:.3f})")
    return result


if __name__ == "__main__":
    run_tiny_lm_stage()
