"""What every sharded job shares: the plan, the sidecar that marks a finished shard, resuming, running.

A job cuts its inputs into shards (consecutive groups of files) and runs one task per shard on
any `concurrent.futures.Executor` (None runs them here, one after another). A task writes its
output file atomically, then a small JSON sidecar next to it:

    shard-00003.tok        the output (written to a temp file, renamed into place when complete)
    shard-00003.tok.json   {"inputs": [{"path", "size", "mtime_ns"}], "identity": {...},
                            "size": bytes, "sha256": "...", "result": {"count": ..., ...}}

A shard is done only when its sidecar exists and still matches: the same inputs (paths, sizes,
mtimes), the same identity (encoding or split pattern), an output of the recorded size and
SHA-256. The check runs inside the task, on the worker, so a rerun reads shards in parallel
and the driver touches no data. Temp files of killed attempts are removed before a shard is
redone, and by the driver at the start and end of a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from minembed._files import atomic_write

SIDECAR_VERSION = 1
MANIFEST_NAME = "manifest.json"
_HASH_BLOCK = 1 << 20

PathLike = str | os.PathLike


class ShardsFailed(RuntimeError):
    """Some shards failed; the others are written, and a rerun with the same arguments resumes."""

    def __init__(self, message: str, failed: Sequence[int] = (), written: int = 0) -> None:
        super().__init__(message)
        self.failed = list(failed)
        self.written = written

    def __reduce__(self):
        return type(self), (self.args[0], self.failed, self.written)


@dataclass(frozen=True)
class ShardTask:
    """One shard's work, small enough to pickle into every task (no encoding, no data)."""

    index: int
    n_shards: int
    inputs: tuple[str, ...]
    out_path: str
    identity: dict = field(hash=False)  # what the output depends on besides the inputs (compared on resume)
    work: Callable  # work(task, out_path) -> dict of results; writes out_path atomically
    params: tuple = ()  # extra arguments for `work`, picklable
    resume: bool = True

    def describe(self) -> str:
        names = ", ".join(self.inputs[:3]) + (f", ... ({len(self.inputs)} files)" if len(self.inputs) > 3 else "")
        return f"shard {self.index} of {self.n_shards} ({Path(self.out_path).name}, inputs {names})"


def group_inputs(inputs: PathLike | Iterable[PathLike], files_per_shard: int) -> list[tuple[str, ...]]:
    """Consecutive groups of `files_per_shard` absolute paths, in the order given."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = [os.path.abspath(os.fspath(p)) for p in inputs]
    if not paths:
        raise ValueError("inputs is empty; pass a list of text file paths")
    if isinstance(files_per_shard, bool) or not isinstance(files_per_shard, int) or files_per_shard < 1:
        raise ValueError(f"files_per_shard must be an int >= 1, got files_per_shard={files_per_shard!r}")
    return [tuple(paths[i : i + files_per_shard]) for i in range(0, len(paths), files_per_shard)]


def prepare_out_dir(out_dir: PathLike, prefix: str) -> tuple[Path, Path]:
    """(out_dir as an absolute path, its manifest path), before a run writes shards `prefix-*` there.

    Creates the folder, removes the old manifest (it no longer describes what is on disk until
    this run ends) and the temporary files that killed runs left behind.
    """
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST_NAME
    manifest_path.unlink(missing_ok=True)
    for pattern in (f"{prefix}-*", MANIFEST_NAME):
        remove_temp_files(out_dir, pattern)
    return out_dir, manifest_path


def plan_tasks(
    groups: Sequence[tuple[str, ...]],
    out_dir: Path,
    prefix: str,
    suffix: str,
    identity: dict,
    work: Callable,
    params: tuple,
    resume: bool,
) -> list[ShardTask]:
    """One ShardTask per group of inputs, writing out_dir / `prefix-<i>-of-<n><suffix>`."""
    return [
        ShardTask(
            i,
            len(groups),
            group,
            str(out_dir / shard_name(prefix, i, len(groups), suffix)),
            identity,
            work,
            params,
            resume,
        )  # fmt: skip
        for i, group in enumerate(groups)
    ]


def shard_name(prefix: str, index: int, n_shards: int, suffix: str) -> str:
    width = max(5, len(str(n_shards - 1)))
    return f"{prefix}-{index:0{width}d}{suffix}"


def check_executor(executor) -> None:
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor (e.g. ThreadPoolExecutor, ProcessPoolExecutor, "
            f"dask's Client.get_executor()) or None, got {type(executor).__name__}"
        )


def sidecar_path(out_path: PathLike) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + ".json")


def file_sha256(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def input_stats(paths: Sequence[str]) -> list[dict]:
    """[{"path", "size", "mtime_ns"}] of each input; a missing one raises FileNotFoundError naming it."""
    stats = []
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"input file {path} does not exist; fix the inputs list or restore the file"
            ) from None
        if not os.path.isfile(path):
            raise FileNotFoundError(f"input file {path} is not a regular file")
        stats.append({"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return stats


def write_json_atomic(path: PathLike, obj) -> None:
    with atomic_write(path, "w") as f:
        f.write(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path: PathLike):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def remove_temp_files(folder: Path, name_glob: str) -> int:
    """Remove the temp files `atomic_write` leaves for names matching name_glob (killed attempts)."""
    removed = 0
    for tmp in folder.glob(f".{name_glob}.*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def valid_sidecar(task: ShardTask) -> dict | None:
    """The shard's sidecar if it proves the output is complete and current, else None."""
    out = Path(task.out_path)
    try:
        record = read_json(sidecar_path(out))
        if record.get("version") != SIDECAR_VERSION or record.get("identity") != task.identity:
            return None
        if [entry["path"] for entry in record["inputs"]] != list(task.inputs):
            return None
        if record["inputs"] != input_stats(task.inputs):
            return None  # an input changed (size or mtime) or vanished
        if out.stat().st_size != record["size"] or file_sha256(out) != record["sha256"]:
            return None  # truncated, replaced or corrupt
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record


def run_shard(task: ShardTask, run_id: str = "") -> dict:
    """Do one shard (or find it done): the function every executor runs. Returns the sidecar record.

    run_id is unused here: it makes each run's calls distinct, because Dask's executor keys a call
    by its arguments and would answer a repeated one from a result it still holds, without running."""
    out = Path(task.out_path)
    if task.resume and (record := valid_sidecar(task)) is not None:
        return {**record, "reused": True}
    # Untrust and clear any earlier attempt first: a sidecar is written only after its output.
    sidecar_path(out).unlink(missing_ok=True)
    remove_temp_files(out.parent, out.name)
    remove_temp_files(out.parent, sidecar_path(out).name)
    try:
        stats = input_stats(task.inputs)
        result = task.work(task, out)
        if input_stats(task.inputs) != stats:
            raise RuntimeError("an input file changed while it was being read; rerun when the inputs are stable")
    except BaseException:
        out.unlink(missing_ok=True)  # nothing final is left for a failed shard
        raise
    record = {
        "version": SIDECAR_VERSION,
        "shard": task.index,
        "file": out.name,
        "inputs": stats,
        "identity": task.identity,
        "size": out.stat().st_size,
        "sha256": file_sha256(out),
        "result": result,
    }
    write_json_atomic(sidecar_path(out), record)
    return {**record, "reused": False}


def _describe_error(task: ShardTask, error: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return f"{task.describe()}: {text}"


def run_shards(
    tasks: Sequence[ShardTask], executor: Executor | None, *, progress: bool | None, what: str, rerun_hint: str
) -> list[dict]:
    """Run every task (on `executor`, or here when None); the records in shard order.

    Every shard is attempted even when some fail, so that a rerun has the least left to do;
    then ShardsFailed says which failed, how many are written, and that a rerun resumes.
    """
    from tqdm.auto import tqdm

    if progress is None:
        progress = sys.stderr is not None and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    records: list[dict | None] = [None] * len(tasks)
    errors: dict[int, BaseException] = {}
    with tqdm(total=len(tasks), unit="shard", desc=what, disable=not progress) as bar:
        if executor is None:
            for i, task in enumerate(tasks):
                try:
                    records[i] = run_shard(task)
                except Exception as error:  # noqa: BLE001 - reported with the others in ShardsFailed
                    errors[i] = error
                bar.update()
        else:
            run_id = uuid.uuid4().hex
            futures = {executor.submit(run_shard, task, run_id): i for i, task in enumerate(tasks)}
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        records[i] = future.result()
                    except Exception as error:  # noqa: BLE001 - a task's error, a dead worker, a broken pool
                        errors[i] = error
                    bar.update()
            except BaseException:  # Ctrl-C on the driver: stop what has not started
                for future in futures:
                    future.cancel()
                raise
    if errors:
        for i in errors:  # no attempt of a failed shard is running any more: clear its leftovers
            out = Path(tasks[i].out_path)
            remove_temp_files(out.parent, out.name)
            remove_temp_files(out.parent, sidecar_path(out).name)
        first = min(errors)
        written = len(tasks) - len(errors)
        raise ShardsFailed(
            f"{len(errors)} of {len(tasks)} shards failed and {written} are written; {rerun_hint} "
            f"(it redoes only the {len(errors)} missing shards). First failure: "
            f"{_describe_error(tasks[first], errors[first])}",
            failed=sorted(errors),
            written=written,
        ) from errors[first]
    return records  # type: ignore[return-value]
