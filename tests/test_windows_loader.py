"""SlidingWindowDataset, DataLoader, create_dataloader and random_batch against the course's
GPTDatasetV1 + torch DataLoader (reference/course_data.py) and nanoGPT's get_batch rule."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minembed.data import DataLoader, SlidingWindowDataset, create_dataloader, random_batch
from reference.course_data import GPTDatasetV1, PretokenizedText, create_dataloader_v1
from reference.tiktoken_ref import get_encoding as tiktoken_encoding

INT_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def course_dataset(ids, max_length, stride):
    return GPTDatasetV1("", PretokenizedText(ids), max_length, stride)


@st.composite
def streams(draw, max_tokens=300):
    """(ids, max_length, stride) with enough tokens for at least one window."""
    max_length = draw(st.integers(1, 40))
    n = draw(st.integers(max_length + 1, max_tokens))
    stride = draw(st.integers(1, 50))
    dtype = draw(st.sampled_from(INT_DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    hi = min(np.iinfo(dtype).max, 50_000)
    ids = np.random.default_rng(seed).integers(0, hi, size=n).astype(dtype)
    return ids, max_length, stride


# ----------------------------------------------------------------------------------- the windows


@given(streams())
def test_windows_match_gptdatasetv1(case):
    ids, max_length, stride = case
    ours = SlidingWindowDataset(ids, max_length, stride)
    theirs = course_dataset(ids, max_length, stride)
    assert len(ours) == len(theirs)
    for i in range(len(theirs)):
        x, y = ours[i]
        tx, ty = theirs[i]
        assert x.dtype == ids.dtype and x.shape == (max_length,)
        assert np.array_equal(x, tx.numpy()) and np.array_equal(y, ty.numpy())
    # every window is a view of the one token array
    assert np.shares_memory(ours[-1][1], ids) and not ours.inputs.flags.writeable


@given(n=st.integers(0, 30), max_length=st.integers(1, 30), stride=st.integers(1, 5))
def test_too_few_tokens_raise_like_the_course_asserts(n, max_length, stride):
    ids = np.arange(n)
    if n > max_length:
        assert len(SlidingWindowDataset(ids, max_length, stride)) == len(course_dataset(ids, max_length, stride))
        return
    with pytest.raises(AssertionError):
        course_dataset(ids, max_length, stride)
    with pytest.raises(ValueError, match=f"got {n} token ids but max_length={max_length}"):
        SlidingWindowDataset(ids, max_length, stride)


def test_golden_windows_read_by_eye():
    ds = SlidingWindowDataset(np.arange(7), max_length=3, stride=2)
    assert ds.inputs.tolist() == [[0, 1, 2], [2, 3, 4]]
    assert ds.targets.tolist() == [[1, 2, 3], [3, 4, 5]]


def test_indexing_slicing_iteration():
    ids = np.arange(100, dtype=np.uint16)
    ds = SlidingWindowDataset(ids, max_length=5, stride=3)
    windows = list(ds)
    assert len(windows) == len(ds) == 32
    assert np.array_equal(ds[-1][0], windows[-1][0]) and np.array_equal(ds[-32][1], windows[0][1])
    xs, _ = ds[2:10:3]
    assert xs.shape == (3, 5) and np.array_equal(xs[1], windows[5][0]) and np.shares_memory(xs, ids)
    bx, by = ds[np.array([4, 0, -1])]
    assert np.array_equal(bx, np.stack([windows[4][0], windows[0][0], windows[-1][0]]))
    assert np.array_equal(by, bx + 1)
    for bad in (32, -33):
        with pytest.raises(IndexError, match=f"window index {bad}"):
            ds[bad]
    with pytest.raises(IndexError, match="window index 40"):
        ds[np.array([1, 40])]
    with pytest.raises(TypeError, match="integer array"):
        ds[np.array([0.5])]


def test_invalid_arguments_name_the_numbers():
    with pytest.raises(ValueError, match="max_length must be at least 1, got max_length=0"):
        SlidingWindowDataset(np.arange(10), 0, 1)
    with pytest.raises(ValueError, match="stride must be at least 1, got stride=-2"):
        SlidingWindowDataset(np.arange(10), 4, -2)
    with pytest.raises(TypeError, match="max_length must be an int"):
        SlidingWindowDataset(np.arange(10), 4.0, 1)
    with pytest.raises(TypeError, match="dtype float64"):
        SlidingWindowDataset(np.arange(10.0), 4, 1)
    with pytest.raises(ValueError, match=r"shape \(2, 5\)"):
        SlidingWindowDataset(np.zeros((2, 5), dtype=np.int64), 4, 1)
    assert len(SlidingWindowDataset(list(range(10)), 4, 1)) == 6  # lists are fine


def test_windows_over_100m_tokens_take_constant_memory(tmp_path):
    n = 100_000_000
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.truncate(n * 2)  # a sparse 200 MB file: nothing is written or read
    ids = np.memmap(path, dtype=np.uint16, mode="r", shape=(n,))
    tracemalloc.start()
    try:
        ds = SlidingWindowDataset(ids, max_length=256, stride=1)
        last_x, last_y = ds[-1]
        x, _ = next(iter(DataLoader(ds, batch_size=8)))
        bx, _ = random_batch(ids, 8, 256, np.random.default_rng(0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(ds) == n - 256
    assert x.shape == bx.shape == (8, 256) and int(last_y.sum()) == 0
    assert np.shares_memory(last_x, ids) and np.may_share_memory(ds.inputs, ids)
    # constant: the loader's first gather block (64K tokens as int64, x and y) and nothing per token
    assert peak < 4_000_000, f"building the dataset and one batch allocated {peak} bytes"


def test_shuffled_epoch_holds_one_int32_order(tmp_path):
    n = 10_000_000  # a shuffled epoch needs its permutation: 4 bytes per window, nothing else
    ids = np.zeros(n, dtype=np.uint16)
    ds = SlidingWindowDataset(ids, max_length=256, stride=1)
    tracemalloc.start()
    try:
        x, _ = next(iter(DataLoader(ds, batch_size=8, shuffle=True, seed=0)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert x.shape == (8, 256)
    assert peak < 4 * len(ds) + 4_000_000, f"a shuffled batch allocated {peak} bytes"


# ----------------------------------------------------------------------------------- the loader


def torch_batches(loader):
    return [(x.numpy(), y.numpy()) for x, y in loader]


def assert_same_batches(ours, theirs):
    assert len(ours) == len(theirs)
    for (x, y), (tx, ty) in zip(ours, theirs):
        assert x.dtype == np.int64 and x.shape == tx.shape
        assert np.array_equal(x, tx) and np.array_equal(y, ty)


# block_tokens: how many tokens the fast path gathers at once; small values make an epoch span
# many blocks, so the block boundaries are exercised too.
block_tokens = st.sampled_from([1, 50, 300, DataLoader._BLOCK_TOKENS])


@given(streams(max_tokens=200), st.integers(1, 9), st.booleans(), block_tokens)
def test_sequential_batches_match_torch(case, batch_size, drop_last, block):
    ids, max_length, stride = case
    ours = DataLoader(SlidingWindowDataset(ids, max_length, stride), batch_size=batch_size, drop_last=drop_last)
    ours._BLOCK_TOKENS = block
    theirs = torch.utils.data.DataLoader(
        course_dataset(ids, max_length, stride), batch_size=batch_size, drop_last=drop_last
    )
    assert len(ours) == len(theirs)
    assert_same_batches(list(ours), torch_batches(theirs))


@given(streams(max_tokens=200), st.integers(1, 9), st.booleans(), st.integers(0, 2**32 - 1), block_tokens)
def test_shuffled_batches_match_torch_fed_the_same_permutation(case, batch_size, drop_last, seed, block):
    ids, max_length, stride = case
    ours = DataLoader(
        SlidingWindowDataset(ids, max_length, stride),
        batch_size=batch_size,
        shuffle=True,
        drop_last=drop_last,
        seed=seed,
    )
    ours._BLOCK_TOKENS = block
    dataset = course_dataset(ids, max_length, stride)
    orders = np.random.default_rng(seed)  # the documented rule: one permutation per epoch
    for _epoch in range(2):
        order = orders.permutation(len(dataset)).tolist()
        theirs = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=order, drop_last=drop_last)
        assert_same_batches(list(ours), torch_batches(theirs))


def test_shuffle_is_reproducible_and_new_each_epoch():
    ds = SlidingWindowDataset(np.arange(1000), max_length=4, stride=1)
    a, b = DataLoader(ds, 16, shuffle=True, seed=7), DataLoader(ds, 16, shuffle=True, seed=7)
    first, second = [x for x, _ in a], [x for x, _ in a]
    assert all(np.array_equal(p, q) for p, q in zip(first, [x for x, _ in b]))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    assert sorted(np.concatenate(first)[:, 0].tolist()) == list(range(996))  # each window once


def test_batches_are_fresh_contiguous_arrays_in_the_dtype_asked_for():
    ids = np.arange(300, dtype=np.uint16)
    ds = SlidingWindowDataset(ids, 16, 3)
    batches = list(DataLoader(ds, batch_size=4, dtype=None))
    assert all(x.dtype == np.uint16 and x.flags.c_contiguous and y.flags.c_contiguous for x, y in batches)
    assert not any(np.shares_memory(x, ids) for x, _ in batches)
    x32, _ = next(iter(DataLoader(ds, batch_size=4, dtype=np.int32)))
    assert x32.dtype == np.int32 and np.array_equal(x32, batches[0][0])
    with pytest.raises(TypeError, match="integer dtype"):
        DataLoader(ds, dtype=np.float32)


def test_generic_dataset_is_stacked_like_torch_collate():
    ids = np.arange(50, dtype=np.uint32)
    fast = SlidingWindowDataset(ids, 6, 4)
    pairs = [fast[i] for i in range(len(fast))]  # a plain list of (x, y) pairs
    assert_same_batches(list(DataLoader(pairs, batch_size=5)), list(DataLoader(fast, batch_size=5)))


def test_loader_argument_errors():
    ds = SlidingWindowDataset(np.arange(20), 4, 1)
    with pytest.raises(ValueError, match="batch_size must be at least 1, got batch_size=0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="seed must be"):
        DataLoader(ds, seed="x")
    with pytest.raises(TypeError, match="len"):
        DataLoader(5)


def test_create_dataloader_matches_course_on_the_verdict(corpora):
    text = corpora["the-verdict.txt"] + " <|endoftext|> " + corpora["the-verdict.txt"][:500]
    enc = tiktoken_encoding("gpt2")
    for max_length, stride, batch_size in [(4, 4, 8), (256, 128, 4), (32, 1, 3)]:
        ours = create_dataloader(
            text,
            encoding=enc,
            batch_size=batch_size,
            max_length=max_length,
            stride=stride,
            shuffle=False,
            drop_last=True,
        )
        theirs = create_dataloader_v1(
            text,
            batch_size=batch_size,
            max_length=max_length,
            stride=stride,
            shuffle=False,
            drop_last=True,
            tokenizer=enc,
        )
        assert_same_batches(list(ours), torch_batches(theirs))
    assert 50256 in ours.dataset.token_ids  # <|endoftext|> is the special token, as in the course


def test_create_dataloader_by_encoding_name_uses_minembed(corpora, monkeypatch, shared_encodings):
    monkeypatch.setenv("MINEMBED_ENCODINGS_DIR", str(shared_encodings))
    text = corpora["the-verdict.txt"][:3000] + "<|endoftext|>" + corpora["the-verdict.txt"][:3000]
    ours = create_dataloader(text, encoding="gpt2", batch_size=2, max_length=16, stride=5, shuffle=True, seed=3)
    order = np.random.default_rng(3).permutation(len(ours.dataset)).tolist()
    theirs = create_dataloader_v1(text, batch_size=2, max_length=16, stride=5, drop_last=True, sampler=order)
    assert_same_batches(list(ours), torch_batches(theirs))


def test_create_dataloader_with_simple_tokenizer(corpora):
    from minembed import SimpleTokenizer

    tok = SimpleTokenizer.from_text(corpora["the-verdict.txt"])
    loader = create_dataloader(corpora["the-verdict.txt"], encoding=tok, max_length=8, stride=8, shuffle=False)
    x, _ = next(iter(loader))
    assert x[0].tolist() == tok.encode(corpora["the-verdict.txt"])[:8]
    with pytest.raises(TypeError, match="text must be a str"):
        create_dataloader([1, 2, 3], encoding=tok)
    with pytest.raises(TypeError, match="encoding name such as 'gpt2'.*got int"):
        create_dataloader("some text", encoding=50257)


# ----------------------------------------------------------------------------------- random_batch


@given(
    n=st.integers(2, 500),
    block_size=st.integers(1, 60),
    batch_size=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from(INT_DTYPES),
)
def test_random_batch_follows_the_nanogpt_rule(n, block_size, batch_size, seed, dtype):
    tokens = (np.arange(n) % 100).astype(dtype)
    if n <= block_size:
        with pytest.raises(ValueError, match=f"got {n} tokens but block_size={block_size}"):
            random_batch(tokens, batch_size, block_size, np.random.default_rng(seed))
        return
    x, y = random_batch(tokens, batch_size, block_size, np.random.default_rng(seed))
    offsets = np.random.default_rng(seed).integers(0, n - block_size, size=batch_size)
    assert x.shape == y.shape == (batch_size, block_size) and x.dtype == y.dtype == np.int64
    for row, o in enumerate(offsets):
        assert np.array_equal(x[row], tokens[o : o + block_size]) and np.array_equal(
            y[row], tokens[o + 1 : o + 1 + block_size]
        )


def test_random_batch_covers_every_offset_and_reads_memmaps(tmp_path):
    tokens = np.arange(12, dtype=np.uint16)
    tokens.tofile(tmp_path / "t.bin")
    mm = np.memmap(tmp_path / "t.bin", dtype=np.uint16, mode="r")
    x, _ = random_batch(mm, 500, 4, np.random.default_rng(0))
    assert sorted(set(x[:, 0].tolist())) == list(range(8))  # offsets 0..n-block_size-1, all reachable
    with pytest.raises(ValueError, match="block_size must be at least 1"):
        random_batch(mm, 2, 0, 0)
