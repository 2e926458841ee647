"""Models built only from minembed's layers: the tiny language model and its training loop."""

from minembed.models.tinylm import TinyLM, sample_next_token
from minembed.models.train_lm import TrainLMResult, train_lm

__all__ = ["TinyLM", "TrainLMResult", "sample_next_token", "train_lm"]
