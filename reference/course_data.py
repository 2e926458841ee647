"""The classic course's data pipeline, rebuilt here from its description (not copied) as an oracle.

- `course_split`, `course_vocab`, `CourseSimpleTokenizer`: the word-level tokenizer. Text is
  `re.split` on a capturing group of single punctuation marks `,.:;?_!"()'`, the double dash and
  single whitespace characters, every piece is stripped and empty pieces dropped; the vocab is the
  sorted unique pieces followed by "<|endoftext|>" and "<|unk|>"; unknown words become "<|unk|>";
  decoding joins with single spaces and deletes whitespace before `,.:;?!"()'`.
- `GPTDatasetV1`: one pair of torch tensors per window, `for start in range(0, n - max_length, stride)`,
  input `ids[start:start + max_length]`, target the same slice shifted right by one.
- `create_dataloader_v1`: gpt2 ids of a text -> GPTDatasetV1 -> torch DataLoader.

minembed's SimpleTokenizer and data package are tested against these.
"""

from __future__ import annotations

import re

import torch
from torch.utils.data import DataLoader, Dataset

_COURSE_SPLIT = re.compile(r"""([,.:;?_!"()']|--|\s)""")
_COURSE_JOIN_FIX = re.compile(r"""\s+([,.:;?!"()'])""")


def course_split(text: str) -> list[str]:
    """The course's preprocessing: split keeping the separators, strip, drop blanks."""
    pieces = []
    for piece in _COURSE_SPLIT.split(text):
        piece = piece.strip()
        if piece:
            pieces.append(piece)
    return pieces


def course_vocab(text: str) -> dict[str, int]:
    """{token: id}: sorted unique pieces of text, then <|endoftext|> and <|unk|> (later ids win on repeats)."""
    ordered = sorted(set(course_split(text)))
    ordered += ["<|endoftext|>", "<|unk|>"]
    vocab = {}
    for position, token in enumerate(ordered):
        vocab[token] = position
    return vocab


class CourseSimpleTokenizer:
    """SimpleTokenizerV2's behaviour: unknown pieces map to <|unk|>."""

    def __init__(self, vocab: dict[str, int]):
        self.token_to_id = dict(vocab)
        self.id_to_token = {i: t for t, i in vocab.items()}

    def encode(self, text: str) -> list[int]:
        out = []
        for piece in course_split(text):
            if piece not in self.token_to_id:
                piece = "<|unk|>"
            out.append(self.token_to_id[piece])
        return out

    def decode(self, ids) -> str:
        joined = " ".join(self.id_to_token[int(i)] for i in ids)
        return _COURSE_JOIN_FIX.sub(lambda m: m.group(1), joined)


class GPTDatasetV1(Dataset):
    """One (input, target) tensor pair per window, built eagerly, as the course does."""

    def __init__(self, txt: str, tokenizer, max_length: int, stride: int):
        ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        if not len(ids) > max_length:
            raise AssertionError("need at least max_length + 1 token ids")
        self.input_ids = []
        self.target_ids = []
        for start in range(0, len(ids) - max_length, stride):
            self.input_ids.append(torch.tensor(ids[start : start + max_length]))
            self.target_ids.append(torch.tensor(ids[start + 1 : start + 1 + max_length]))

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index):
        return self.input_ids[index], self.target_ids[index]


class PretokenizedText:
    """A stand-in 'tokenizer' whose encode returns fixed ids: feeds GPTDatasetV1 exact token streams."""

    def __init__(self, ids):
        self.ids = [int(i) for i in ids]

    def encode(self, txt, allowed_special=None):
        return list(self.ids)


def create_dataloader_v1(
    txt: str,
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
    tokenizer=None,
    sampler=None,
) -> DataLoader:
    """gpt2 (or `tokenizer`) -> GPTDatasetV1 -> torch DataLoader; `sampler` replaces shuffling."""
    if tokenizer is None:
        from reference.tiktoken_ref import get_encoding

        tokenizer = get_encoding("gpt2")
    dataset = GPTDatasetV1(txt, tokenizer, max_length, stride)
    if sampler is not None:
        shuffle = False
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, num_workers=num_workers, sampler=sampler
    )
