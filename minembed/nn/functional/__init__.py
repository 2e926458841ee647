"""Pure forward and backward functions, as torch.nn.functional; the modules in minembed.nn call these."""

from minembed.nn.functional.embedding import (
    embedding,
    embedding_backward,
    embedding_renorm_,
)
from minembed.nn.functional.embedding_bag import embedding_bag, embedding_bag_backward
from minembed.nn.functional.linear import linear, linear_backward, one_hot
from minembed.nn.functional.loss import cross_entropy, cross_entropy_with_grad, log_softmax, log_softmax_backward
from minembed.nn.functional.normalization import layer_norm, layer_norm_backward, layer_norm_stats
from minembed.nn.functional.positional import rope, rope_angles, rope_backward, sinusoidal_positions

__all__ = [
    "cross_entropy",
    "cross_entropy_with_grad",
    "embedding",
    "embedding_backward",
    "embedding_bag",
    "embedding_bag_backward",
    "embedding_renorm_",
    "layer_norm",
    "layer_norm_backward",
    "layer_norm_stats",
    "linear",
    "linear_backward",
    "log_softmax",
    "log_softmax_backward",
    "one_hot",
    "rope",
    "rope_angles",
    "rope_backward",
    "sinusoidal_positions",
]
