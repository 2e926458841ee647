"""Pure forward and backward functions, as torch.nn.functional; the modules in minembed.nn call these."""
from minembed.nn.functional.embedding import (
    embedding,
    embedding_backward,
    embedding_renorm_,
)

__all__ = [
    "embedding",
    "embedding_backward",
    "embedding_renorm_",
]
