"""Models built only from minembed's layers: the tiny language model and its training loop."""

from minembed.models.tinylm import TinyLM, sample_next_token

__all__ = ["TinyLM", "sample_next_token"]
