"""Train a tiny language model on text files: a BPE trained on the text, then token + position
embeddings, LayerNorm and an output head trained with AdamW on next-token prediction.

Prints the loss every few steps (a progress bar between, on a terminal), a sample before and
after training, and the nearest neighbours of a few tokens in the learned token table. With
-o the weights are saved (.npz, or .safetensors when the safetensors package is installed).
"""

from __future__ import annotations

import argparse
import importlib.util
import warnings

from minembed.commands._common import UsageError, check_input_files, check_output_path, read_text, say


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="UTF-8 text files to train on")
    parser.add_argument("--steps", type=int, default=200, metavar="N", help="optimizer steps (default 200)")
    parser.add_argument("--vocab-size", type=int, default=512, metavar="N", help="BPE vocabulary (default 512)")
    parser.add_argument("--d-model", type=int, default=64, metavar="D", help="embedding width (default 64)")
    parser.add_argument("--context-length", type=int, default=64, metavar="T", help="window length (default 64)")
    parser.add_argument("--batch-size", type=int, default=16, metavar="B", help="windows per step (default 16)")
    parser.add_argument("--lr", type=float, default=1e-2, help="peak learning rate (default 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial model and the batches")
    parser.add_argument(
        "--sparse", action="store_true", help="train the token table with SparseAdam (only the rows in a batch move)"
    )
    parser.add_argument("-o", "--output", metavar="MODEL", help="save the weights to MODEL.npz or MODEL.safetensors")


def run(args: argparse.Namespace) -> int:
    from minembed.models.train_lm import train_lm

    for flag, value, least in (
        ("--steps", args.steps, 1),
        ("--vocab-size", args.vocab_size, 257),
        ("--d-model", args.d_model, 1),
        ("--context-length", args.context_length, 2),
        ("--batch-size", args.batch_size, 1),
    ):
        if value < least:
            raise UsageError(f"{flag} {value} is too small: pass at least {least}")
    if not args.lr > 0:
        raise UsageError(f"--lr {args.lr} must be positive, e.g. --lr 0.01")
    out = None
    if args.output is not None:
        out = check_output_path(args.output)
        if out.suffix not in (".npz", ".safetensors"):
            raise UsageError(f"-o {args.output}: the model file must end in .npz or .safetensors")
        if out.suffix == ".safetensors" and importlib.util.find_spec("safetensors") is None:
            raise UsageError(f"-o {args.output} needs the safetensors package: pip install safetensors, or save .npz")
    texts = [read_text(path) for path in check_input_files(args.files)]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = train_lm(
                texts,
                steps=args.steps,
                vocab_size=args.vocab_size,
                d_model=args.d_model,
                context_length=args.context_length,
                batch_size=args.batch_size,
                lr=args.lr,
                seed=args.seed,
                sparse=args.sparse,
                log=print,
            )
    except ValueError as e:  # e.g. too little text for the context length: the user's to fix
        raise UsageError(str(e)) from None
    for warning in caught:  # e.g. fewer merges than asked for: one line each, no source line
        say(f"minembed train-lm: warning: {warning.message}")
    if out is not None:
        result.model.save(out)
        say(f"saved the model to {out}")
    return 0
