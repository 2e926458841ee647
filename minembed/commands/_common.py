"""What every command shares: its two kinds of error, reading input, naming an encoding, writing output.

A command raises `UsageError` (exit status 2) when an argument is wrong and `CommandError` (exit
status 1) when a well-formed request fails; `minembed.cli.main` prints either as one line on
stderr. Nothing here imports matplotlib, torch or tiktoken.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

# The names `--pattern` accepts, beside a regex of your own.
PATTERN_NAMES = ("gpt2", "r50k", "cl100k", "o200k", "gpt4")


class UsageError(Exception):
    """A wrong argument: the message names it and the fix. Exit status 2."""


class CommandError(Exception):
    """A request that failed (a file that cannot be read or written, ...). Exit status 1."""


def read_text(path: str | os.PathLike, what: str = "input file") -> str:
    """The file at `path` as UTF-8 text (a leading BOM dropped); "-" reads stdin."""
    if str(path) == "-":
        data = sys.stdin.buffer.read()
        path = "<stdin>"
    else:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise CommandError(f"{what} {path} does not exist; check the path") from None
        except IsADirectoryError:
            raise CommandError(f"{what} {path} is a folder; pass the text files inside it") from None
        except PermissionError:
            raise CommandError(f"{what} {path} cannot be read (permission denied); check its permissions") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CommandError(
            f"{what} {path} is not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start}); "
            f"convert it first, e.g. iconv -f LATIN1 -t UTF-8"
        ) from None


def check_input_files(paths: list[str], what: str = "input file") -> list[Path]:
    """The paths, each checked to be a readable regular file (so a long command fails before it starts)."""
    checked = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise CommandError(f"{what} {name} does not exist; check the path")
        if not path.is_file():
            raise CommandError(f"{what} {name} is not a regular file; pass text files")
        if not os.access(path, os.R_OK):
            raise CommandError(f"{what} {name} cannot be read (permission denied); check its permissions")
        checked.append(path)
    return checked


def split_pattern(name_or_regex: str) -> str:
    """A `--pattern` value (a name in PATTERN_NAMES or a regex) -> the split pattern text."""
    from minembed.text import patterns

    named = {
        "gpt2": patterns.GPT2_SPLIT_PATTERN,
        "r50k": patterns.GPT2_SPLIT_PATTERN,
        "cl100k": patterns.CL100K_SPLIT_PATTERN,
        "o200k": patterns.O200K_SPLIT_PATTERN,
        "gpt4": patterns.GPT4_SPLIT_PATTERN,
    }
    if name_or_regex in named:
        return named[name_or_regex]
    import regex

    try:
        regex.compile(name_or_regex)
    except regex.error as e:
        raise UsageError(
            f"--pattern {name_or_regex!r} is neither a known name ({', '.join(PATTERN_NAMES)}) nor a valid regex ({e})"
        ) from None
    return name_or_regex


def load_encoding_arg(value: str, pattern: str = "gpt4", specials: list[str] | None = None):
    """An `--encoding` value -> an Encoding: a registered name, or the path of an encoding file.

    Files: minembed's own format (`minembed train -o my.encoding`), or `.tiktoken` ranks, which
    carry no split pattern or special tokens: those come from `pattern` and `specials` (ids after
    the ranks, in order, as `minembed train` numbers them).
    """
    from minembed import get_encoding, list_encoding_names

    names = list_encoding_names()
    if value in names:
        return get_encoding(value)
    path = Path(value)
    if not path.is_file():
        raise UsageError(
            f"unknown encoding {value!r}: pass one of {', '.join(names)}, "
            "or the path of an encoding file (minembed train writes one)"
        )
    try:
        if path.suffix == ".tiktoken":
            from minembed import Encoding, load_tiktoken_bpe

            ranks = load_tiktoken_bpe(path)
            special_ids = {token: len(ranks) + i for i, token in enumerate(specials or [])}
            return Encoding(
                path.stem, pat_str=split_pattern(pattern), mergeable_ranks=ranks, special_tokens=special_ids
            )
        from minembed import load_encoding

        return load_encoding(path)
    except UnicodeDecodeError:
        raise CommandError(f"encoding file {value} is not UTF-8 text; is it an encoding file?") from None
    except ValueError as e:
        raise CommandError(f"cannot load the encoding file: {e}") from None


def check_output_path(path: str | os.PathLike, flag: str = "-o") -> Path:
    """The output path, checked before any work: its folder exists and can be written to."""
    out = Path(path)
    folder = out.parent
    if out.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name, e.g. {flag} {out / 'out'}")
    if not folder.is_dir():
        raise CommandError(f"the folder {folder} of {flag} {path} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"cannot write {path}: the folder {folder} is not writable; choose another {flag}")
    return out


def run_interruptibly(fn, *args, **kwargs):
    """fn(*args, **kwargs) in a daemon thread, so Ctrl-C reaches this thread at once.

    For calls that spend long in compiled code holding no Python frame (BPE training, encoding a
    large text): a signal is only handled between bytecodes, so in the main thread Ctrl-C would
    wait for the call to end. The abandoned thread dies with the process. Never use it for a call
    that writes the output file: that cleanup must run in the thread that is interrupted.
    """
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - re-raised in the calling thread
            outcome["error"] = e

    worker = threading.Thread(target=work, daemon=True, name="minembed-command")
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


def say(message: str) -> None:
    """A status line for people, on stderr (stdout carries the command's data)."""
    print(message, file=sys.stderr, flush=True)
