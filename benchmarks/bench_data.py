"""Token ids to training batches: minembed.data vs torch, and text files to a token file, side by side.

Windows of 256 tokens, stride 1, batches of 8, over the first W windows of War and Peace encoded with gpt2
(W = 20,000; 5,000 with --quick). Every contender yields contiguous int64 (8, 256) inputs and targets.
- build: SlidingWindowDataset vs the course's GPTDatasetV1 (two tensors per window, built eagerly).
- one epoch, sequential and shuffled, us per batch: minembed DataLoader vs
  (a) the course: torch DataLoader over GPTDatasetV1 (default collate stacks 8 pairs of tensors);
  (b) a torch unfold view per batch: X, Y = tokens.unfold(...), x = torch.stack of the batch's 8 rows of X
      (its fastest form here: indexing the view, X[idx], measured 5-10x slower);
  (c) copying blocks, as minembed does: one copy of 32 batches' windows from the unfold view (a slice when
      sequential, torch.stack of the rows when shuffled), then contiguous x/y blocks sliced into batches.
- tokenize_files (gpt2, 2 workers) vs nanoGPT's way with tiktoken (read each file whole, 2 threads of
  encode_ordinary_batch, write uint16): MB/s and peak RSS (VmHWM), each in a fresh subprocess.

    python benchmarks/bench_data.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import REPO_ROOT, Timing, print_rows, row, same_threads, setup_environment, spread_text, time_alternating

MAX_LENGTH, STRIDE, BATCH = 256, 1, 8
BLOCK_BATCHES = 32  # minembed's block: 1 << 16 tokens = 32 batches of 8 x 256


def war_and_peace_ids(windows: int) -> np.ndarray:
    import minembed
    from reference.shared import corpus_paths

    path = next(p for p in corpus_paths() if p.name == "warpeace.txt")
    ids = minembed.get_encoding("gpt2").encode_ordinary(path.read_text(encoding="utf-8"))
    return np.asarray(ids[: windows + MAX_LENGTH], dtype=np.int64)


def torch_loaders(tokens: np.ndarray):
    """(unfold per batch, unfold blocks): epoch functions over torch unfold views of the tokens."""
    import torch

    t = torch.from_numpy(tokens)
    xs = t[:-1].unfold(0, MAX_LENGTH, STRIDE)  # (N, T) view
    ys = t[1:].unfold(0, MAX_LENGTH, STRIDE)
    spans = t.unfold(0, MAX_LENGTH + 1, STRIDE)  # (N, T + 1) view
    n = xs.shape[0] // BATCH * BATCH
    generator = torch.Generator().manual_seed(0)

    def order(shuffle):
        return torch.randperm(n, generator=generator) if shuffle else torch.arange(n)

    def per_batch(shuffle):
        def epoch():
            perm = order(shuffle).tolist()
            count = 0
            for start in range(0, n, BATCH):
                idx = perm[start : start + BATCH]
                # Stacking the rows of the view: x = xs[idx] (advanced indexing) was 5-10x slower here.
                x, y = torch.stack([xs[i] for i in idx]), torch.stack([ys[i] for i in idx])
                count += x.shape[0] + y.shape[0]
            return count

        return epoch

    def blocks(shuffle):
        def epoch():
            perm = order(shuffle).tolist()
            block = BATCH * BLOCK_BATCHES
            count = 0
            for first in range(0, n, block):
                if shuffle:  # one copy of the block's windows
                    rows = torch.stack([spans[i] for i in perm[first : first + block]])
                else:
                    rows = spans[first : first + block]  # a view: the copies below are the only ones
                x_block, y_block = rows[:, :-1].contiguous(), rows[:, 1:].contiguous()
                for start in range(0, x_block.shape[0], BATCH):
                    x, y = x_block[start : start + BATCH], y_block[start : start + BATCH]
                    count += x.shape[0] + y.shape[0]
            return count

        return epoch

    return per_batch, blocks


def loader_rows(quick: bool) -> list[dict]:
    import torch

    from minembed.data import DataLoader, SlidingWindowDataset
    from reference.course_data import GPTDatasetV1, PretokenizedText

    windows = 5_000 if quick else 20_000
    rounds = 3 if quick else 7
    tokens = war_and_peace_ids(windows)
    token_list = tokens.tolist()
    work = f"{windows:,} windows of {MAX_LENGTH}, stride {STRIDE}"
    rows = []
    build = time_alternating(
        {
            "minembed": lambda: SlidingWindowDataset(tokens, MAX_LENGTH, STRIDE),
            "course": lambda: GPTDatasetV1("", PretokenizedText(token_list), MAX_LENGTH, STRIDE),
        },
        rounds=3,
        repeat=1,
        warmup=2,
    )
    rows.append(
        row(
            "data",
            f"build the dataset, {work}",
            "course GPTDatasetV1 (tensor pair per window)",
            "ms",
            build["minembed"].median * 1e3,
            build["course"].median * 1e3,
            spread_text(build["minembed"], build["course"]),
        )
    )
    ours_ds = SlidingWindowDataset(tokens, MAX_LENGTH, STRIDE)
    course_ds = GPTDatasetV1("", PretokenizedText(token_list), MAX_LENGTH, STRIDE)
    per_batch, blocks = torch_loaders(tokens)
    n_batches = len(ours_ds) // BATCH
    with same_threads():
        for shuffle in (False, True):
            ours = DataLoader(ours_ds, batch_size=BATCH, shuffle=shuffle, drop_last=True, seed=0)
            course = torch.utils.data.DataLoader(course_ds, batch_size=BATCH, shuffle=shuffle, drop_last=True)
            first = next(iter(DataLoader(ours_ds, batch_size=BATCH, drop_last=True)))
            expected = next(iter(torch.utils.data.DataLoader(course_ds, batch_size=BATCH, drop_last=True)))
            np.testing.assert_array_equal(first[0], expected[0].numpy())
            np.testing.assert_array_equal(first[1], expected[1].numpy())
            epochs = time_alternating(
                {
                    "minembed": lambda loader=ours: sum(1 for _ in loader),
                    "course": lambda loader=course: sum(1 for _ in loader),
                    "unfold": per_batch(shuffle),
                    "blocks": blocks(shuffle),
                },
                rounds=rounds,
                repeat=1,
            )
            per = {name: Timing([s / n_batches for s in t.samples]) for name, t in epochs.items()}
            order = "shuffled" if shuffle else "sequential"
            for name, form in (
                ("course", "course: torch DataLoader over GPTDatasetV1"),
                ("unfold", "torch unfold view, 8 rows torch.stack-ed per batch"),
                ("blocks", "torch unfold view, copied in blocks of 32 batches"),
            ):
                rows.append(
                    row(
                        "data",
                        f"epoch {order}, batch {BATCH}, {work}",
                        form,
                        "us/call",
                        per["minembed"].median * 1e6,
                        per[name].median * 1e6,
                        spread_text(per["minembed"], per[name]),
                    )
                )
    return rows


PEAK_RSS = "\nprint(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
TOKENIZE_SCRIPT = """
import sys, time
import minembed
from minembed.data import tokenize_files
paths, out = sys.argv[1:-1], sys.argv[-1]
encoding = minembed.get_encoding("gpt2")
start = time.perf_counter()
info = tokenize_files(paths, out, encoding, workers=2, progress=False)
print(info.count, time.perf_counter() - start)"""
NANOGPT_SCRIPT = """
import sys, time
import numpy as np
from reference.tiktoken_ref import get_encoding
enc = get_encoding("gpt2")
paths, out = sys.argv[1:-1], sys.argv[-1]
start = time.perf_counter()
texts = [open(p, encoding="utf-8-sig", newline="").read() for p in paths]
ids = []
for doc in enc.encode_ordinary_batch(texts, num_threads=2):
    ids.extend(doc)
    ids.append(enc.eot_token)
np.array(ids, dtype=np.uint16).tofile(out)
print(len(ids), time.perf_counter() - start)"""


def run_child(script: str, args: list[str]) -> tuple[int, float, float]:
    """Run a fresh Python on script; return (tokens, seconds, peak RSS in MB) that the child reports.

    The child reads its own VmHWM at the end: wait4's ru_maxrss would count the parent's pages.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(
        [sys.executable, "-c", script + PEAK_RSS, *args],
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=env,
        check=True,
    )
    count, seconds, peak_kb = out.stdout.decode().split()[-3:]
    return int(count), float(seconds), int(peak_kb) / 1024


def files_rows(quick: bool) -> list[dict]:
    from reference.shared import corpus_paths

    megabytes = 6 if quick else 40
    rounds = 1 if quick else 3
    corpora = b"".join(p.read_bytes() for p in corpus_paths())
    with tempfile.TemporaryDirectory(prefix="minembed-bench-data-") as tmp:
        paths, written = [], 0
        piece_size = int(megabytes * 1e6 / 4)  # four files, each a different stretch of the corpora
        while written < megabytes * 1e6:
            offset = (len(paths) * 3_000_017) % (len(corpora) - piece_size)
            piece = corpora[offset : offset + piece_size]
            piece = piece[piece.find(b"\n") + 1 : piece.rfind(b"\n") + 1]  # whole lines only
            path = Path(tmp) / f"part{len(paths)}.txt"
            path.write_bytes(piece)
            paths.append(str(path))
            written += len(piece)
        total_mb = written / 1e6
        results = {"minembed": [], "nanogpt": []}
        for _ in range(rounds):  # alternate the two children
            results["minembed"].append(run_child(TOKENIZE_SCRIPT, [*paths, str(Path(tmp) / "a.tok")]))
            results["nanogpt"].append(run_child(NANOGPT_SCRIPT, [*paths, str(Path(tmp) / "b.bin")]))
    assert results["minembed"][0][0] == results["nanogpt"][0][0], "token counts differ"
    speed = {name: Timing([total_mb / seconds for _, seconds, _ in runs]) for name, runs in results.items()}
    peak = {name: Timing([rss for _, _, rss in runs]) for name, runs in results.items()}
    work = f"{total_mb:.0f} MB of text in {len(paths)} files, gpt2, 2 threads both, fresh subprocess"
    form = "tiktoken encode_ordinary_batch of whole files (nanoGPT style)"
    return [
        row(
            "data",
            f"tokenize_files throughput, {work}",
            form,
            "MB/s",
            speed["minembed"].median,
            speed["nanogpt"].median,
            spread_text(speed["minembed"], speed["nanogpt"]),
        ),
        row(
            "data",
            f"tokenize_files peak RSS (VmHWM), {work}",
            form,
            "MB",
            peak["minembed"].median,
            peak["nanogpt"].median,
            spread_text(peak["minembed"], peak["nanogpt"]),
        ),
    ]


def run(quick: bool = False) -> list[dict]:
    setup_environment()
    import torch  # noqa: F401  (the anchor: a missing torch skips this benchmark)

    return loader_rows(quick) + files_rows(quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_rows(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
