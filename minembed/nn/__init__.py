"""Layers with state and hand-written backward passes, mirroring torch.nn; they call minembed.nn.functional."""

from minembed.nn import functional
from minembed.nn.embedding import Embedding
from minembed.nn.embedding_bag import EmbeddingBag
from minembed.nn.linear import Linear
from minembed.nn.loss import CrossEntropyLoss
from minembed.nn.normalization import LayerNorm
from minembed.nn.parameter import Parameter
from minembed.nn.positional import PositionalEmbedding, SinusoidalPositionalEmbedding, TokenAndPositionEmbedding
from minembed.nn.sparse import SparseRowGradient

__all__ = [
    "CrossEntropyLoss",
    "Embedding",
    "EmbeddingBag",
    "LayerNorm",
    "Linear",
    "Parameter",
    "PositionalEmbedding",
    "SinusoidalPositionalEmbedding",
    "SparseRowGradient",
    "TokenAndPositionEmbedding",
    "functional",
]
