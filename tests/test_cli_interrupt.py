"""Ctrl-C during a long `minembed` command: exit status 130, one line, no traceback, no output file."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reference.shared import corpus_paths
from tests.test_cli import cli_env, leftovers


@pytest.fixture(scope="module")
def big_text(tmp_path_factory) -> Path:
    """About 40 MB of text: long enough that neither command can finish before the signal."""
    path = tmp_path_factory.mktemp("big") / "big.txt"
    corpora = "".join(p.read_text(encoding="utf-8") for p in corpus_paths())
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(corpora for _ in range(max(1, 40_000_000 // len(corpora))))
    return path


def interrupt(args: list, ready) -> subprocess.CompletedProcess:
    """Run `python -m minembed args`, send SIGINT once ready(stderr so far) is true, wait for the exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "minembed", *map(str, args)],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not ready("".join(lines)) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the command ended before it could be interrupted: " + "".join(lines)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    reader.join(timeout=10)
    return subprocess.CompletedProcess(process.args, process.returncode, None, "".join(lines))


def after(marker: str, seconds: float):
    """A ready() that is true `seconds` after `marker` first shows on stderr."""
    seen_at: list[float] = []

    def ready(stderr: str) -> bool:
        if marker in stderr and not seen_at:
            seen_at.append(time.monotonic())
        return bool(seen_at) and time.monotonic() - seen_at[0] >= seconds

    return ready


def check_clean_stop(result, out: Path) -> None:
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.splitlines()[-1].endswith(": interrupted"), result.stderr
    assert not out.exists()
    assert leftovers(out.parent) == []


def test_ctrl_c_while_encoding_to_a_token_file(big_text, tmp_path):
    out = tmp_path / "tokens.bin"
    # the temporary file appears when tokenize_files starts writing: the encode is under way
    result = interrupt(["encode", "--encoding", "gpt2", big_text, "-o", out], lambda _: leftovers(tmp_path) != [])
    check_clean_stop(result, out)


def test_ctrl_c_while_training(big_text, tmp_path):
    out = tmp_path / "big.encoding"
    # train announces itself on stderr once every file is read; 0.5 s later it is counting or merging
    result = interrupt(["train", big_text, "--vocab-size", "100000", "-o", out], after("training a BPE", 0.5))
    check_clean_stop(result, out)
