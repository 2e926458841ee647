"""Train a byte-level BPE on text files (rustbpe's merges, exactly) and write it as an encoding file.

The output is minembed's own format (`minembed encode --encoding OUT`, `minembed.load_encoding`),
or tiktoken's `.tiktoken` ranks when OUT ends in .tiktoken or with --format tiktoken. A .tiktoken
file holds no split pattern and no special tokens: give them to tiktoken.Encoding yourself (the
command prints how), or to `minembed encode --encoding OUT.tiktoken --pattern P --special T`.

Each file is one text; special tokens (default <|endoftext|>) get the ids after the merges and
count in --vocab-size.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from minembed.commands._common import (
    PATTERN_NAMES,
    UsageError,
    check_input_files,
    check_output_path,
    read_text,
    run_interruptibly,
    say,
    split_pattern,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="UTF-8 text files to train on")
    parser.add_argument(
        "--vocab-size",
        type=int,
        required=True,
        metavar="N",
        help="tokens in the result: 256 bytes + merges + special tokens",
    )
    parser.add_argument(
        "--pattern",
        default="gpt4",
        metavar="NAME|REGEX",
        help=f"split pattern: {', '.join(PATTERN_NAMES)} or a regex (default gpt4, rustbpe's)",
    )
    parser.add_argument(
        "--special",
        action="extend",
        nargs="+",
        metavar="TOKEN",
        help="special tokens, in id order (default <|endoftext|>)",
    )
    parser.add_argument("--no-special", action="store_true", help="no special tokens at all")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="the encoding file to write")
    parser.add_argument(
        "--format",
        choices=["minembed", "tiktoken"],
        help="file format (default: tiktoken when OUT ends in .tiktoken, else minembed)",
    )
    parser.add_argument("--name", help="the encoding's name (default: OUT's file name without its suffix)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )


def _special_tokens(args: argparse.Namespace) -> list[str]:
    if args.no_special:
        if args.special:
            raise UsageError("--special and --no-special contradict each other; pass one of them")
        return []
    return list(args.special) if args.special else ["<|endoftext|>"]


def run(args: argparse.Namespace) -> int:
    specials = _special_tokens(args)
    smallest = 256 + len(specials)
    if args.vocab_size < smallest:
        raise UsageError(
            f"--vocab-size {args.vocab_size} is too small: it counts 256 byte tokens and {len(specials)} special "
            f"token(s), so pass --vocab-size {smallest} or more"
        )
    pat_str = split_pattern(args.pattern)
    out = check_output_path(args.output)
    fmt = args.format or ("tiktoken" if out.suffix == ".tiktoken" else "minembed")
    paths = check_input_files(args.files)
    texts = [read_text(p) for p in paths]  # every file read and checked before the long part starts

    from minembed import train_bpe

    say(
        f"training a BPE of {args.vocab_size:,} tokens on {len(paths)} file(s), "
        f"{sum(len(t) for t in texts):,} characters..."
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoding = run_interruptibly(
            train_bpe,
            texts,
            args.vocab_size,
            pat_str=pat_str,
            special_tokens=specials,
            progress=args.progress,
            name=args.name or out.name.split(".")[0],
        )
    for warning in caught:
        say(f"minembed train: warning: {' '.join(str(warning.message).split())}")
    seconds = time.perf_counter() - start

    if fmt == "tiktoken":
        from minembed.tokenizers.formats import dump_tiktoken_bpe

        dump_tiktoken_bpe(encoding.mergeable_ranks, out)
    else:
        encoding.save(out)
    say(
        f"wrote {out} ({fmt} format): {encoding.n_vocab:,} tokens, {len(encoding.mergeable_ranks) - 256:,} merges, "
        f"trained in {seconds:.1f} s"
    )
    if fmt == "tiktoken":
        say(
            f"load it with tiktoken.Encoding({encoding.name!r}, pat_str=PATTERN, "
            f"mergeable_ranks=tiktoken.load.load_tiktoken_bpe({str(Path(out))!r}), "
            f"special_tokens={dict(encoding.special_tokens)!r}), PATTERN being the --pattern above"
        )
    return 0
