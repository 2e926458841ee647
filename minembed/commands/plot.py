"""Draw a picture of one stage to a PNG (needs matplotlib: pip install 'minembed[plot]').

  embedding  2-D PCA scatter of chosen rows of a table (a registered or trained encoding's freshly
             initialised table, or a saved .npy table) or of word vectors (word2vec text format), labelled
  positions  heatmap of the sinusoidal position table
  tokens     histogram of token lengths in bytes for an encoding on a text
  windows    how a sliding window of --max-length tokens and --stride covers a token sequence

Prints the file written, its size and the number of labelled points.
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from minembed.commands._common import (
    CommandError,
    UsageError,
    check_input_files,
    check_output_path,
    load_encoding_arg,
    read_text,
)
from minembed.commands.encode import add_encoding_arguments


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, e.g. 1000x700, got {text!r}")
    return int(match[1]), int(match[2])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=type(parser))
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-o", "--output", required=True, metavar="FILE.png", help="the PNG to write")
    common.add_argument("--size", type=_size, metavar="WxH", help="picture size in pixels (default 1000x750)")
    common.add_argument("--title", default="", help="a title instead of the default one")

    embedding = kinds.add_parser("embedding", parents=[common], help="2-D PCA scatter of labelled rows or words")
    source = embedding.add_mutually_exclusive_group(required=True)
    source.add_argument("--encoding", metavar="NAME|PATH", help="rows of this encoding's table, picked by --tokens")
    source.add_argument("--vectors", metavar="FILE", help="word vectors in word2vec text format")
    source.add_argument("--table", metavar="FILE.npy", help="a saved table (rows x dim), rows picked by --rows")
    embedding.add_argument(
        "--weights", metavar="FILE.npy", help="with --encoding: a saved table (n_vocab x dim) instead of a fresh one"
    )
    embedding.add_argument(
        "--tokens", nargs="+", metavar="TEXT", help="with --encoding: the texts whose tokens to plot"
    )
    embedding.add_argument("--words", nargs="+", metavar="WORD", help="with --vectors: the words (default: the first)")
    embedding.add_argument("--rows", nargs="+", type=int, metavar="ROW", help="with --table: the rows to plot")
    embedding.add_argument("--limit", type=int, default=40, help="with --vectors and no --words: how many (40)")
    embedding.add_argument("--dim", type=int, default=64, help="width of a fresh table (default 64)")
    embedding.add_argument("--seed", type=int, default=0, help="seed of a fresh table (default 0)")
    embedding.add_argument("--normalize", action="store_true", help="scale each vector to unit length before the PCA")
    embedding.set_defaults(draw=_embedding)

    positions = kinds.add_parser("positions", parents=[common], help="heatmap of the sinusoidal position table")
    positions.add_argument("--length", type=int, default=128, help="positions (default 128)")
    positions.add_argument("--dim", type=int, default=64, help="features (default 64)")
    positions.add_argument("--base", type=float, default=10000.0, help="the frequency base (default 10000)")
    positions.set_defaults(draw=_positions)

    tokens = kinds.add_parser("tokens", parents=[common], help="histogram of token lengths in bytes")
    tokens.add_argument("files", nargs="*", metavar="FILE", help="UTF-8 text files (or --text)")
    tokens.add_argument("--text", help="a text instead of files")
    add_encoding_arguments(tokens)
    tokens.set_defaults(draw=_tokens)

    windows = kinds.add_parser("windows", parents=[common], help="how sliding windows cover a token sequence")
    windows.add_argument("--max-length", type=int, default=8, help="tokens per window (default 8)")
    windows.add_argument("--stride", type=int, default=4, help="step between windows (default 4)")
    windows.add_argument("--num-tokens", type=int, default=40, help="length of the sequence (default 40)")
    windows.add_argument("--encoding", metavar="NAME|PATH", help="with --text: label the axis with its tokens")
    windows.add_argument("--text", help="a text whose tokens make the sequence (with --encoding)")
    windows.set_defaults(draw=_windows, pattern="gpt4", special=[])


def _embedding(args: argparse.Namespace, viz, size):
    if args.vectors:
        if args.limit < 2:
            raise UsageError(f"--limit {args.limit} is too small: a scatter needs at least 2 words")
        check_input_files([args.vectors], "vectors file")
        try:
            words, vectors = viz.read_word2vec_text(args.vectors, args.words, None if args.words else args.limit)
        except (KeyError, ValueError) as e:
            raise CommandError(str(e).strip("'\"")) from None
        return viz.embedding_figure(vectors, words, title=args.title, size=size, normalize=args.normalize)
    if args.table:
        if not args.rows:
            raise UsageError("--table needs --rows: the row numbers to plot, e.g. --rows 0 1 2 3")
        table = _load_table(args.table)
        bad = [r for r in args.rows if not 0 <= r < len(table)]
        if bad:
            raise UsageError(
                f"--rows {bad[0]} is outside the table's {len(table)} rows; pick rows 0 to {len(table) - 1}"
            )
        return viz.embedding_figure(
            table[args.rows], [str(r) for r in args.rows], title=args.title, size=size, normalize=args.normalize
        )
    if not args.tokens:
        raise UsageError("--encoding needs --tokens: the texts whose tokens to plot, e.g. --tokens king queen man")
    encoding = load_encoding_arg(args.encoding)
    ids = list(dict.fromkeys(t for text in args.tokens for t in encoding.encode_ordinary(text)))
    labels = [encoding.decode_single_token_bytes(t).decode("utf-8", errors="backslashreplace") for t in ids]
    if args.weights:
        table = _load_table(args.weights)
        if len(table) != encoding.n_vocab:
            raise UsageError(f"--weights has {len(table)} rows but {encoding.name} has {encoding.n_vocab} tokens")
        what = f"rows of {args.weights}"
    else:
        from minembed.nn import Embedding

        table = Embedding(encoding.n_vocab, args.dim, rng=np.random.default_rng(args.seed)).weight
        what = f"rows of a freshly initialised {encoding.n_vocab} x {args.dim} table (seed {args.seed})"
    title = args.title or f"{len(ids)} tokens of {encoding.name}: {what}, PCA to 2-D"
    return viz.embedding_figure(table[ids], labels, title=title, size=size, normalize=args.normalize)


def _load_table(path: str) -> np.ndarray:
    check_input_files([path], "table file")
    try:
        table = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise CommandError(f"{path} is not a NumPy .npy array ({e}); save tables with np.save") from None
    if table.ndim != 2:
        raise CommandError(f"{path} holds an array of shape {table.shape}; a table is 2-D (rows x dim)")
    return table


def _positions(args: argparse.Namespace, viz, size):
    from minembed.nn.functional import sinusoidal_positions

    return viz.positions_figure(sinusoidal_positions(args.length, args.dim, args.base), title=args.title, size=size)


def _tokens(args: argparse.Namespace, viz, size):
    if bool(args.files) == (args.text is not None):
        raise UsageError("pass the text as FILE arguments or as --text, one of the two")
    encoding = load_encoding_arg(args.encoding, args.pattern, args.special)
    check_input_files(args.files)
    text = args.text if args.text is not None else "\n".join(read_text(f) for f in args.files)
    ids = np.asarray(encoding.encode_ordinary(text), dtype=np.int64)
    distinct, inverse = np.unique(ids, return_inverse=True)
    distinct_lengths = np.array([len(encoding.decode_single_token_bytes(int(t))) for t in distinct], dtype=np.int64)
    title = (
        args.title
        or f"{encoding.name}: {ids.size:,} tokens, {len(text.encode()) / max(ids.size, 1):.2f} bytes per token"
    )
    return viz.token_lengths_figure(distinct_lengths[inverse], title=title, size=size)


def _windows(args: argparse.Namespace, viz, size):
    labels = None
    num_tokens = args.num_tokens
    if (args.text is None) != (args.encoding is None):
        raise UsageError("--text and --encoding go together: the text's tokens make the sequence")
    if args.text is not None:
        encoding = load_encoding_arg(args.encoding)
        ids = encoding.encode_ordinary(args.text)
        labels = [encoding.decode_single_token_bytes(t).decode("utf-8", errors="backslashreplace") for t in ids]
        num_tokens = len(ids)
    if args.max_length < 1 or args.stride < 1:
        raise UsageError("--max-length and --stride must be at least 1")
    if num_tokens <= args.max_length:
        raise UsageError(
            f"{num_tokens} tokens make no window of --max-length {args.max_length}: "
            "pass more tokens than the window length"
        )
    return viz.windows_figure(num_tokens, args.max_length, args.stride, labels=labels, title=args.title, size=size)


def run(args: argparse.Namespace) -> int:
    out = check_output_path(args.output)
    if out.suffix.lower() != ".png":
        raise UsageError(f"-o {args.output} should end in .png (the pictures are PNG files)")
    try:
        import matplotlib  # noqa: F401  (only to say clearly that it is missing)
    except ImportError:
        raise CommandError("plot needs matplotlib, an optional extra: pip install 'minembed[plot]'") from None
    from minembed import viz

    size = args.size or ((1000, 750) if args.kind == "embedding" else (1000, 600))
    figure = args.draw(args, viz, size)
    viz.save_png(figure, out)
    print(f"wrote {out} ({size[0]}x{size[1]} PNG): {len(viz.labelled_points(figure))} labelled points")
    return 0
