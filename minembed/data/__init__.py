"""From token ids to training batches, and token files on disk.

- `SlidingWindowDataset(token_ids, max_length, stride)`: the course's (input, target) windows as
  zero-copy views over one token array (memmaps included).
- `DataLoader`, `create_dataloader`, `random_batch`: (x, y) int64 batches of shape (B, T).
- `write_tokens` / `open_tokens` / `tokenize_files`: uint16/uint32 token files, opened as memmaps.
"""

from minembed.data.loader import DataLoader, create_dataloader, random_batch
from minembed.data.tokenfile import TokenFileInfo, open_tokens, token_file_info, tokenize_files, write_tokens
from minembed.data.windows import SlidingWindowDataset

__all__ = [
    "SlidingWindowDataset",
    "DataLoader",
    "create_dataloader",
    "random_batch",
    "TokenFileInfo",
    "write_tokens",
    "open_tokens",
    "token_file_info",
    "tokenize_files",
]
