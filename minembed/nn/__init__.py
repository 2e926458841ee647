"""Layers with state and hand-written backward passes, mirroring torch.nn; they call minembed.nn.functional."""
from minembed.nn import functional
from minembed.nn.embedding import Embedding
from minembed.nn.sparse import SparseRowGradient

__all__ = ["Embedding", "SparseRowGradient", "functional"]
