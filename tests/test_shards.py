"""Sharded tokenization and BPE counting: the same bytes on every executor, resume, and worker deaths.

The Dask cluster (two worker processes, shared by the session) and the executors that kill
their workers come from reference/dask_cluster.py; minembed itself only sees Executors.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import minembed
from minembed.data import SlidingWindowDataset, random_batch, tokenize_files
from minembed.data.loader import DataLoader
from minembed.data.shards import (
    ShardsFailed,
    TokenShards,
    count_pieces_shards,
    merge_shards,
    open_token_shards,
    tokenize_shards,
    train_bpe_from_counts,
)
from reference.dask_cluster import DyingWorkers, local_cluster, worker_environment
from reference.shared import corpus_paths


@pytest.fixture(scope="session")
def dask_client():
    """Two worker processes shared by every test of the session; closed at the end."""
    with local_cluster() as client:
        yield client


def _corpus(name: str) -> bytes:
    return next(p for p in corpus_paths() if p.name == name).read_bytes()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    """Six text files: plain, a BOM, CRLF newlines, an empty one, a literal <|endoftext|>, and a
    1 MB one (shard 2, long enough to be killed in the middle of writing)."""
    folder = tmp_path_factory.mktemp("inputs")
    verdict = _corpus("the-verdict.txt")
    kjv = _corpus("kjv.txt")
    contents = [
        verdict[:9000],
        b"\xef\xbb\xbf" + _corpus("taylorswift.txt")[:20000],
        kjv[:1_000_000],
        verdict[9000:].replace(b"\n", b"\r\n"),
        b"",
        "naïve café <|endoftext|> 東京 \n\nend".encode() * 50,
    ]
    paths = []
    for i, data in enumerate(contents):
        path = folder / f"doc{i}.txt"
        path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def expected(inputs, tmp_path_factory) -> bytes:
    """tokenize_files' bytes on the same inputs: what every sharded run must reproduce."""
    out = tmp_path_factory.mktemp("expected") / "all.tok"
    tokenize_files(inputs, out, "gpt2")
    return out.read_bytes()


def _process_pool() -> ProcessPoolExecutor:
    """Two worker processes forked from a clean single-threaded server that has gpt2 loaded."""
    worker_environment()  # the server imports this checkout's minembed
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reference.warm_gpt2"])
    return ProcessPoolExecutor(max_workers=2, mp_context=context)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _inodes(folder: Path) -> dict[str, int]:
    """{shard file: inode}: a rewritten shard gets a new inode (it is renamed into place)."""
    return {p.name: p.stat().st_ino for p in folder.glob("shard-*.tok")}


def _merged(manifest: Path) -> bytes:
    out = manifest.parent / "merged.tok"
    merge_shards(manifest, out)
    return out.read_bytes()


def test_every_executor_writes_the_same_bytes_as_tokenize_files(inputs, expected, dask_client, tmp_path):
    shard_bytes = []
    with ThreadPoolExecutor(2) as threads, _process_pool() as processes:
        executors = {"none": None, "threads": threads, "processes": processes, "dask": dask_client.get_executor()}
        for label, executor in executors.items():
            manifest = tokenize_shards(inputs, tmp_path / label, "gpt2", executor=executor, files_per_shard=2)
            assert _merged(manifest) == expected, label
            shard_bytes.append([p.read_bytes() for p in sorted((tmp_path / label).glob("shard-*.tok"))])
            assert _leftovers(tmp_path / label) == []
    assert all(b == shard_bytes[0] for b in shard_bytes) and len(shard_bytes[0]) == 3
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["count"] == (len(expected) - 256) // 2 and len(manifest["shards"]) == 3
    assert [Path(i["path"]).name for i in manifest["shards"][1]["inputs"]] == ["doc2.txt", "doc3.txt"]
    tokens = open_token_shards(tmp_path / "dask", verify=True)
    assert np.array_equal(np.asarray(tokens), np.frombuffer(expected[256:], dtype="<u2"))


class RecordingExecutor(ThreadPoolExecutor):
    """A thread pool that remembers the arguments of every call it was given."""

    def __init__(self):
        super().__init__(2)
        self.calls = []

    def submit(self, fn, /, *args, **kwargs):
        self.calls.append(args)
        return super().submit(fn, *args, **kwargs)


def test_each_run_submits_calls_no_earlier_run_made(inputs, tmp_path):
    """Dask's executor keys a call by its arguments (pure=True by default) and answers a call whose
    result the cluster still holds from memory, without running it: a rerun after the files were
    deleted would then write a manifest for missing shards. So every run's calls carry a run id."""
    with RecordingExecutor() as executor:
        for _ in range(2):
            tokenize_shards(inputs, tmp_path / "out", "gpt2", executor=executor, files_per_shard=2, resume=False)
    first, second = executor.calls[:3], executor.calls[3:]
    assert len(first) == len(second) == 3
    assert [args[0] for args in first] == [args[0] for args in second]  # the same shard tasks
    assert not set(map(repr, first)) & set(map(repr, second))  # but never the same call


def test_a_custom_encoding_reaches_the_workers_as_a_file(inputs, dask_client, tmp_path):
    enc = minembed.train_bpe(inputs[0].read_text(encoding="utf-8"), 300, special_tokens=["<|endoftext|>"])
    tokenize_files(inputs[:2], tmp_path / "ref.tok", enc)
    manifest = tokenize_shards(inputs[:2], tmp_path / "out", enc, executor=dask_client.get_executor())
    assert (tmp_path / "out" / "encoding.txt").is_file()
    assert _merged(manifest) == (tmp_path / "ref.tok").read_bytes()


def test_token_shards_read_like_the_concatenated_array(rng):
    parts = [rng.integers(0, 50257, size=n).astype(np.uint16) for n in (5, 0, 1, 40, 3, 0, 17)]
    whole = np.concatenate(parts)
    tokens = TokenShards(parts)
    n = len(whole)
    assert len(tokens) == n and tokens.dtype == np.uint16 and tokens.shape == (n,)
    for i in [0, 4, 5, 6, n - 1, -1, -n]:
        assert tokens[i] == whole[i]
    for a in range(-3, n + 2, 3):
        for b in range(-2, n + 3, 4):
            for step in (1, 2, -3):
                assert np.array_equal(tokens[a:b:step], whole[a:b:step]), (a, b, step)
    index = rng.integers(-n, n, size=(4, 7))
    assert np.array_equal(tokens[index], whole[index])
    starts = np.arange(0, n - 8)
    assert np.array_equal(tokens.gather_spans(starts, 9), np.lib.stride_tricks.sliding_window_view(whole, 9)[starts])
    with pytest.raises(IndexError, match="out of range"):
        tokens[n]
    with pytest.raises(IndexError, match="runs past"):
        tokens.gather_spans([n - 3], 4)
    with pytest.raises(ValueError, match="different dtypes"):
        TokenShards([np.zeros(2, np.uint16), np.zeros(2, np.uint32)])

    # windows and batches read across the boundaries exactly as from the concatenated array
    for max_length, stride in [(4, 1), (6, 5), (16, 3)]:
        sharded, flat = (
            SlidingWindowDataset(tokens, max_length, stride),
            SlidingWindowDataset(whole, max_length, stride),
        )
        assert len(sharded) == len(flat)
        for i in range(-len(flat), len(flat)):
            assert all(np.array_equal(s, f) for s, f in zip(sharded[i], flat[i]))
        batch = rng.integers(0, len(flat), size=5)
        assert all(np.array_equal(s, f) for s, f in zip(sharded[batch], flat[batch]))
        assert all(np.array_equal(s, f) for s, f in zip(sharded[1:-1], flat[1:-1]))
        for (xs, ys), (xf, yf) in zip(
            DataLoader(sharded, 3, shuffle=True, seed=7), DataLoader(flat, 3, shuffle=True, seed=7)
        ):
            assert np.array_equal(xs, xf) and np.array_equal(ys, yf)
        xs, ys = random_batch(tokens, 8, max_length, np.random.default_rng(3))
        xf, yf = random_batch(whole, 8, max_length, np.random.default_rng(3))
        assert np.array_equal(xs, xf) and np.array_equal(ys, yf)


@pytest.mark.parametrize("pat_str", ["gpt4", "gpt2"])
def test_train_bpe_from_counts_gives_train_bpes_ranks(inputs, dask_client, tmp_path, pat_str):
    from minembed.text import patterns

    pattern = patterns.GPT4_SPLIT_PATTERN if pat_str == "gpt4" else patterns.GPT2_SPLIT_PATTERN
    files = [p for p in inputs if p.name != "doc2.txt"] + [inputs[2]]  # the big file last: order must not matter
    texts = [p.read_bytes().decode("utf-8-sig") for p in files]
    specials = ["<|endoftext|>", "東京"]
    vocab_size = 700 if pat_str == "gpt4" else 400
    expected_enc = minembed.train_bpe(texts, vocab_size, pat_str=pattern, special_tokens=specials)
    executor = dask_client.get_executor() if pat_str == "gpt4" else None
    for files_per_shard in (1, 4):
        manifest = count_pieces_shards(
            files,
            tmp_path / f"counts{files_per_shard}",
            pat_str=pattern,
            special_tokens=specials,
            executor=executor,
            files_per_shard=files_per_shard,
        )
        enc = train_bpe_from_counts(manifest, vocab_size)
        assert enc.mergeable_ranks == expected_enc.mergeable_ranks
        assert enc.special_tokens == expected_enc.special_tokens and enc.pat_str == pattern
    # a rerun reuses every count file
    before = {p.name: p.stat().st_ino for p in (tmp_path / "counts1").glob("pieces-*.npz")}
    count_pieces_shards(files, tmp_path / "counts1", pat_str=pattern, special_tokens=specials)
    assert {p.name: p.stat().st_ino for p in (tmp_path / "counts1").glob("pieces-*.npz")} == before


def test_a_worker_killed_while_writing_is_retried_and_the_result_is_identical(inputs, expected, dask_client, tmp_path):
    marker = tmp_path / "first-attempt"
    marker.write_text("kill the worker writing shard 2 once")
    out = tmp_path / "out"
    executor = DyingWorkers(dask_client.get_executor(), shard=2, when="mid-write", marker=marker)
    manifest = tokenize_shards(inputs, out, "gpt2", executor=executor)
    assert not marker.exists()  # the worker did die
    assert _merged(manifest) == expected
    assert _leftovers(out) == []


def test_a_shard_that_kills_every_worker_fails_and_a_rerun_redoes_only_it(inputs, expected, dask_client, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(
        ShardsFailed, match=r"1 of 6 shards failed and 5 are written; run tokenize_shards again"
    ) as info:
        tokenize_shards(inputs, out, "gpt2", executor=DyingWorkers(dask_client.get_executor(), shard=3, when="always"))
    assert "shard 3 of 6 (shard-00003.tok, inputs" in str(info.value) and "doc3.txt" in str(info.value)
    assert info.value.failed == [3] and info.value.written == 5
    assert not (out / "manifest.json").exists() and not (out / "shard-00003.tok").exists()
    assert _leftovers(out) == []
    done = _inodes(out)
    assert sorted(done) == [f"shard-0000{i}.tok" for i in (0, 1, 2, 4, 5)]
    manifest = tokenize_shards(inputs, out, "gpt2", executor=dask_client.get_executor())
    again = _inodes(out)
    assert {k: again[k] for k in done} == done and "shard-00003.tok" in again
    assert _merged(manifest) == expected


def test_a_broken_process_pool_then_a_resume(inputs, expected, tmp_path):
    out = tmp_path / "out"
    with _process_pool() as pool, pytest.raises(ShardsFailed, match="BrokenProcessPool") as info:
        tokenize_shards(inputs, out, "gpt2", executor=DyingWorkers(pool, shard=2, when="always"))
    assert 2 in info.value.failed and not (out / "manifest.json").exists()
    assert "rerun" in str(info.value) or "again" in str(info.value)
    with _process_pool() as pool:
        manifest = tokenize_shards(inputs, out, "gpt2", executor=pool)
    assert _merged(manifest) == expected and _leftovers(out) == []


def test_resume_redoes_truncated_corrupt_and_outdated_shards(inputs, expected, tmp_path):
    out = tmp_path / "out"
    tokenize_shards(inputs, out, "gpt2")
    (out / ".shard-00001.tok.killed.tmp").write_bytes(b"half a shard")  # a killed attempt's leftover
    before = _inodes(out)
    with open(out / "shard-00000.tok", "r+b") as f:  # truncated
        f.truncate(300)
    data = bytearray((out / "shard-00003.tok").read_bytes())  # same size, one token changed
    data[400] ^= 1
    (out / "shard-00003.tok").write_bytes(bytes(data))
    os.utime(inputs[5])  # an input touched since: its shard is outdated
    (out / "shard-00001.tok.json").unlink()  # a shard without its sidecar is not trusted
    manifest = tokenize_shards(inputs, out, "gpt2")
    after = _inodes(out)
    redone = sorted(k for k in before if before[k] != after[k])
    assert redone == [f"shard-0000{i}.tok" for i in (0, 1, 3, 5)]
    assert _merged(manifest) == expected and _leftovers(out) == []
    # resume=False redoes everything
    tokenize_shards(inputs, out, "gpt2", resume=False)
    assert all(after[k] != v for k, v in _inodes(out).items())


@pytest.mark.parametrize("problem", ["missing", "not utf-8"])
def test_bad_input_names_the_file_and_the_shard_and_leaves_nothing_for_it(inputs, tmp_path, problem):
    bad = tmp_path / "bad.txt"
    if problem == "not utf-8":
        bad.write_bytes(b"fine text\n" * 1000 + b"\xff\xfe broken")
    files = [inputs[0], inputs[1], bad, inputs[3]]
    out = tmp_path / "out"
    with pytest.raises(ShardsFailed) as info:
        tokenize_shards(files, out, "gpt2", files_per_shard=2)
    message = str(info.value)
    assert "shard 1 of 2 (shard-00001.tok" in message and str(bad) in message
    assert ("does not exist" if problem == "missing" else "not valid UTF-8") in message
    assert sorted(p.name for p in out.iterdir()) == ["shard-00000.tok", "shard-00000.tok.json"]
    with pytest.raises(FileNotFoundError, match="did not finish"):
        open_token_shards(out)


def test_arguments_are_checked(inputs, tmp_path):
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        tokenize_shards(inputs, tmp_path, "gpt2", executor=2)
    with pytest.raises(ValueError, match="files_per_shard must be an int >= 1"):
        tokenize_shards(inputs, tmp_path, "gpt2", files_per_shard=0)
    with pytest.raises(ValueError, match="neither a registered encoding"):
        tokenize_shards(inputs, tmp_path, "gpt3")
    with pytest.raises(ValueError, match="inputs is empty"):
        tokenize_shards([], tmp_path, "gpt2")


def test_merge_and_open_refuse_a_shard_changed_after_the_manifest(inputs, tmp_path):
    manifest = tokenize_shards(inputs[:2], tmp_path / "out", "gpt2")
    shard = tmp_path / "out" / "shard-00001.tok"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 1  # same size, one token changed
    shard.write_bytes(bytes(data))
    open_token_shards(manifest)  # the headers still agree; only verify reads the data
    with pytest.raises(ValueError, match="shard-00001.tok has changed"):
        open_token_shards(manifest, verify=True)
    with pytest.raises(ValueError, match="shard-00001.tok has changed"):
        merge_shards(manifest, tmp_path / "merged.tok")
    assert not (tmp_path / "merged.tok").exists() and _leftovers(tmp_path) == []
    shard.write_bytes(bytes(data[:-2]))  # truncated
    with pytest.raises(ValueError, match="truncated"):
        open_token_shards(manifest)
