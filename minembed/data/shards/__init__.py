"""Sharded work that runs on any concurrent.futures.Executor (threads, processes, a Dask cluster), resumably.

- `tokenize_shards` / `open_token_shards` / `merge_shards`: token files per shard of inputs,
  read as one sequence or merged into one file identical to tokenize_files'.
- `count_pieces_shards` / `train_bpe_from_counts`: BPE training whose counting is sharded;
  the ranks equal train_bpe's.
minembed never imports Dask: pass `client.get_executor()` as the executor.
"""

from minembed.data.shards._runner import ShardsFailed
from minembed.data.shards.pieces import count_pieces_shards, train_bpe_from_counts
from minembed.data.shards.tokens import EncodingRef, TokenShards, merge_shards, open_token_shards, tokenize_shards

__all__ = [
    "EncodingRef",
    "ShardsFailed",
    "TokenShards",
    "count_pieces_shards",
    "merge_shards",
    "open_token_shards",
    "tokenize_shards",
    "train_bpe_from_counts",
]
