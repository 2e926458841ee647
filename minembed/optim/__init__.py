"""Optimizers mirrored against torch.optim (single-tensor CPU path), and learning-rate schedules."""

from minembed.optim.adam import Adam, AdamW
from minembed.optim.lr_scheduler import WarmupCosine, warmup_cosine
from minembed.optim.optimizer import Optimizer
from minembed.optim.sgd import SGD
from minembed.optim.sparse_adam import SparseAdam

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "SparseAdam", "WarmupCosine", "warmup_cosine"]
