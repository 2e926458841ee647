"""The `minembed` command (also `python -m minembed`): every stage of the package from the shell.

This module only parses arguments and turns errors into one line on stderr; each command lives in
its own module under minembed/commands/ (`add_arguments(parser)` and `run(args) -> exit status`).
With no command, or with options only (`python -m minembed --encoding gpt2`), it runs `demo`.

Exit status: 0 success, 1 a failure (a file that cannot be read or written, ...), 2 a wrong
argument, 130 Ctrl-C. `--debug` shows the traceback instead of the one-line message.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# (command, module under minembed.commands, one-line help); the order of `minembed --help`
COMMANDS = [
    ("demo", "demo", "run the main job: text -> BPE -> ids -> windows -> batches -> embeddings, each stage checked"),
    ("train", "train", "train a byte-level BPE on text files and write an encoding file"),
    ("encode", "encode", "text -> token ids (one line per input), or a token file with -o"),
    ("decode", "decode", "token ids -> text"),
    ("show", "show", "show where an encoding cuts a text into tokens, with their ids"),
    ("bench", "bench", "run the benchmark suite against torch, tiktoken, rustbpe (source checkout only)"),
    ("plot", "plot", "draw embeddings, positions, token lengths or windows to a PNG (needs matplotlib)"),
    ("train-lm", "train_lm", "train a tiny language model (BPE, embeddings, LayerNorm, head) with AdamW on text"),
]
_GLOBAL_FLAGS = {"-h", "--help", "--version", "--debug"}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2), not usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from minembed import __version__

    parser = _Parser(
        prog="minembed",
        description="The input side of a GPT-style model from the shell. With no command, runs `demo`.",
        epilog="Run `minembed COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"minembed {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name, help_text in COMMANDS:
        module = importlib.import_module(f"minembed.commands.{module_name}")
        sub = commands.add_parser(
            name,
            help=help_text,
            description=(module.__doc__ or help_text).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # given after the command, --debug must not reset the one given before it
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    """No command, or options that are not minembed's own first: the arguments are demo's."""
    rest = [a for a in argv if a != "--debug"]
    if not rest or (rest[0].startswith("-") and rest[0] not in _GLOBAL_FLAGS):
        return ["demo", *argv]
    return argv


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) if str(error) else type(error).__name__
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        text = error.args[0]  # str(KeyError) wraps its message in quotes
    return text


def _failure(error: BaseException) -> tuple[int, str]:
    """(exit status, message) for an error a command let through."""
    from minembed.commands._common import CommandError, UsageError

    if isinstance(error, UsageError):
        return 2, _one_line(error)
    if isinstance(error, CommandError):
        return 1, _one_line(error)
    if isinstance(error, PermissionError):
        return 1, f"permission denied: {error.filename}; choose a path you can read or write"
    if isinstance(error, OSError) and error.filename is not None:
        return 1, f"{error.strerror or _one_line(error)}: {error.filename}"
    if isinstance(error, (ValueError, TypeError, KeyError, OSError, RuntimeError)):
        return 1, _one_line(error)
    return 1, f"internal error {type(error).__name__}: {_one_line(error)} (run with --debug and report the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Run the command in argv (default: sys.argv[1:]) and return its exit status."""
    try:
        return _run(argv)
    except KeyboardInterrupt:  # while starting up, before a command runs (or re-raised by --debug)
        if "--debug" in (sys.argv[1:] if argv is None else argv):
            raise
        print("minembed: interrupted", file=sys.stderr)
        return 130


def _run(argv: list[str] | None) -> int:
    argv = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    prog = f"minembed {args.command}"
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `minembed encode ... | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1
    except Exception as error:
        if args.debug:
            raise
        status, message = _failure(error)
        print(f"{prog}: error: {message}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
