"""Sharded BPE training: count pre-token pieces per shard on any executor, merge and train on the driver.

    count_pieces_shards(inputs, out_dir, executor=...)   out_dir/pieces-00000.npz (+ sidecar), ..., manifest.json
    train_bpe_from_counts(out_dir, vocab_size)           -> Encoding, ranks identical to train_bpe

BPE never merges across two pieces, so training needs only each distinct piece and its count:
each shard's table is small next to its text (see docs/distributed.md), the driver adds the
tables up and runs the merge loop once. The ranks equal `train_bpe(texts, ...)` where texts is
each input file decoded as UTF-8 (a leading BOM dropped, newlines untouched), one text per file,
in any order: the counts do not depend on the order, and the merge loop does not depend on the
order of the pieces (ties go to the smallest pair of ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from minembed._files import atomic_write
from minembed.data.shards._runner import (
    PathLike,
    ShardTask,
    check_executor,
    group_inputs,
    plan_tasks,
    prepare_out_dir,
    run_shards,
    write_json_atomic,
)
from minembed.data.shards.tokens import MANIFEST_VERSION, read_manifest
from minembed.data.tokenfile import _document_chunks
from minembed.text.patterns import GPT4_SPLIT_PATTERN
from minembed.tokenizers import train as _train
from minembed.tokenizers.pretokenize import PieceTable, count_pieces_flat


def _file_texts(paths: Iterable[str]):
    """Each file's whole text (UTF-8, BOM dropped, newlines untouched); bad bytes raise naming the file."""
    for path in paths:
        yield from _document_chunks(Path(path), None, lambda n: None)


def _count_shard(task: ShardTask, out: Path) -> dict:
    pat_str, special_tokens = task.params
    tokens, offsets, counts = count_pieces_flat(
        _file_texts(task.inputs), pat_str, special_tokens=special_tokens, num_threads=1
    )
    with atomic_write(out, "wb") as f:
        np.savez(f, pieces=tokens, offsets=offsets, counts=counts)  # pieces: uint8 bytes
    return {"pieces": len(counts), "bytes": int(offsets[-1]), "occurrences": int(counts.sum())}


def count_pieces_shards(
    inputs: PathLike | Iterable[PathLike],
    out_dir: PathLike,
    *,
    pat_str: str = GPT4_SPLIT_PATTERN,
    special_tokens: Iterable[str] | None = None,
    executor: Executor | None = None,
    files_per_shard: int = 1,
    resume: bool = True,
    progress: bool | None = None,
) -> Path:
    """Count the distinct pre-token pieces of each shard of inputs into out_dir; returns the manifest path.

    One task per shard of `files_per_shard` consecutive files, on `executor` (any
    concurrent.futures.Executor, or None to run here), each reading its files whole (a worker
    holds its largest file's text in memory). Occurrences of `special_tokens` are cut out
    first, as train_bpe does. Resuming, failures and the manifest work as in tokenize_shards.
    """
    check_executor(executor)
    pat_str = _train._check_pattern(pat_str)
    specials = _train._check_special_tokens(special_tokens)
    groups = group_inputs(inputs, files_per_shard)
    out_dir, manifest_path = prepare_out_dir(out_dir, "pieces")
    identity = {"kind": "pieces", "pat_str": pat_str, "special_tokens": specials}
    tasks = plan_tasks(groups, out_dir, "pieces", ".npz", identity, _count_shard, (pat_str, specials), resume)
    records = run_shards(
        tasks,
        executor,
        progress=progress,
        what=f"count pieces {out_dir.name}",
        rerun_hint="run count_pieces_shards again with the same arguments to resume",
    )
    manifest = {
        "version": MANIFEST_VERSION,
        "kind": "pieces",
        "pat_str": pat_str,
        "special_tokens": specials,
        "shards": [
            {"file": r["file"], **r["result"], "size": r["size"], "sha256": r["sha256"], "inputs": r["inputs"]}
            for r in records
        ],
    }
    write_json_atomic(manifest_path, manifest)
    return manifest_path


def merged_piece_counts(counts: PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Add up every shard's table: (tokens (T,) uint8, offsets (P+1,) int64, counts (P,) int64, manifest)."""
    folder, data = read_manifest(counts, "pieces")
    table = PieceTable()
    for entry in data["shards"]:
        with np.load(folder / entry["file"]) as shard:
            pieces, offsets, weights = shard["pieces"], shard["offsets"], shard["counts"]
        if len(weights) != entry["pieces"]:
            raise ValueError(f"{folder / entry['file']} does not match the manifest; rerun count_pieces_shards")
        table.add(
            np.ascontiguousarray(pieces, dtype=np.uint8),
            np.ascontiguousarray(offsets[1:], dtype=np.int64),
            len(weights),
            np.ascontiguousarray(weights, dtype=np.int64),
        )
    return (*table.packed_bytes(), data)


def train_bpe_from_counts(
    counts: PathLike, vocab_size: int, *, name: str = "minembed_bpe", progress: bool | None = None
):
    """Train a BPE Encoding from count_pieces_shards' output (its manifest path or folder).

    The split pattern and special tokens are the ones the counts were made with; the ranks are
    identical to `train_bpe(texts, vocab_size, pat_str=..., special_tokens=...)` on the same files.
    The merge loop runs here, on one machine: it needs the table of distinct pieces in memory.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    tokens, offsets, piece_counts, data = merged_piece_counts(counts)
    specials = data["special_tokens"]
    vocab_size = _train._check_vocab_size(vocab_size, len(specials))
    n_merges = vocab_size - 256 - len(specials)
    ranks = _train.ranks_from_piece_counts(
        tokens, offsets, piece_counts, n_merges, _train._show_progress(progress), len(specials), warn_stacklevel=3
    )
    special_ids = {token: len(ranks) + i for i, token in enumerate(specials)}
    from minembed.tokenizers.encoding import Encoding

    return Encoding(name, pat_str=data["pat_str"], mergeable_ranks=ranks, special_tokens=special_ids)
