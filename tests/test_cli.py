"""The `minembed` command, run as a user runs it: `python -m minembed ...` in a subprocess.

Outputs are checked against the oracles (tiktoken through reference/), exit codes and stderr
against the error rules (one line, no traceback, 2 for a wrong argument, 1 for a failure), and
the output path against leftovers. Each subprocess costs a Python start, so runs are shared
between assertions.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import minembed
from minembed.data import open_tokens
from minembed.text.patterns import GPT4_SPLIT_PATTERN
from reference import tiktoken_ref
from reference.shared import encodings_dir

REPO_ROOT = Path(minembed.__file__).resolve().parent.parent
TEXTS = {
    "a.txt": "Hello world! The cat sat on the mat, and the dog sat on the log.\nNaïve café, 12345 numbers.\n",
    "b.txt": "<|endoftext|> is text here.\n\n\tTabs, spaces   and emoji 🎉 too; don't stop.\n",
}


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO_ROOT),  # the minembed under test, not another install
        MINEMBED_ENCODINGS_DIR=str(encodings_dir()),
        MINEMBED_OFFLINE="1",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def minembed_cli(*args, stdin: str | bytes | None = None, env: dict | None = None, cwd=None):
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [sys.executable, "-m", "minembed", *map(str, args)],
        check=False,
        input=data,
        capture_output=True,
        env=env or cli_env(),
        cwd=cwd,
        timeout=300,
    )


def ok(result) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode("utf-8")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("texts")
    paths = {}
    for name, text in TEXTS.items():
        paths[name] = folder / name
        paths[name].write_text(text, encoding="utf-8")
    return paths


def test_encode_gives_tiktoken_ids_and_decode_inverts_it(texts):
    enc = tiktoken_ref.get_encoding("cl100k_base")
    out = ok(minembed_cli("encode", "--encoding", "cl100k_base", texts["a.txt"], texts["b.txt"], "--text", "x y"))
    lines = out.splitlines()
    expected = [TEXTS["a.txt"], TEXTS["b.txt"], "x y"]
    assert lines == [" ".join(map(str, enc.encode_ordinary(t))) for t in expected]

    back = minembed_cli("decode", "--encoding", "cl100k_base", "-", stdin=out)
    assert ok(back) == "".join(expected)  # every line decoded, the bytes as they were


def test_encode_allow_special_and_decode_arguments():
    out = ok(minembed_cli("encode", "--encoding", "gpt2", "--allow-special", "--text", "<|endoftext|>hi"))
    ids = tiktoken_ref.get_encoding("gpt2").encode("<|endoftext|>hi", allowed_special="all")
    assert out == " ".join(map(str, ids)) + "\n"
    assert ok(minembed_cli("decode", "--encoding", "gpt2", "[50256,", "5303]")) == "<|endoftext|>hi"


def test_encode_to_a_token_file_equals_tiktoken_ids_per_document(texts, tmp_path):
    out = tmp_path / "tokens.bin"
    result = minembed_cli("encode", "--encoding", "gpt2", texts["a.txt"], texts["b.txt"], "-o", out)
    ok(result)
    assert "wrote" in result.stderr.decode()
    enc = tiktoken_ref.get_encoding("gpt2")
    expected = [
        *enc.encode_ordinary(TEXTS["a.txt"]),
        enc.eot_token,
        *enc.encode_ordinary(TEXTS["b.txt"]),
        enc.eot_token,
    ]
    assert open_tokens(out).tolist() == expected
    assert leftovers(tmp_path) == []


def test_train_writes_files_that_minembed_and_tiktoken_load_alike(texts, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text((TEXTS["a.txt"] + TEXTS["b.txt"]) * 20, encoding="utf-8")
    mine, ranks = tmp_path / "small.encoding", tmp_path / "small.tiktoken"
    for out in (mine, ranks):
        result = minembed_cli("train", corpus, "--vocab-size", 300, "--special", "<|endoftext|>", "<|pad|>", "-o", out)
        ok(result)
        assert f"wrote {out}" in result.stderr.decode()
    loaded = minembed.load_encoding(mine)
    assert loaded.n_vocab == 300 and loaded.special_tokens == {"<|endoftext|>": 298, "<|pad|>": 299}
    assert loaded.mergeable_ranks == minembed.load_tiktoken_bpe(ranks)

    theirs = tiktoken_ref.encoding_from_file(ranks, GPT4_SPLIT_PATTERN, dict(loaded.special_tokens))
    probe = TEXTS["a.txt"] + "unseen words: zebra quokka"
    encoded = ok(minembed_cli("encode", "--encoding", mine, "--text", probe))
    assert encoded == " ".join(map(str, theirs.encode_ordinary(probe))) + "\n"
    # the .tiktoken file with its pattern and specials given on the command line: the same encoding
    specials = ["--special", "<|endoftext|>", "<|pad|>", "--allow-special"]
    encoded = ok(
        minembed_cli("encode", "--encoding", ranks, "--pattern", "gpt4", *specials, "--text", probe + "<|pad|>")
    )
    assert encoded == " ".join(map(str, theirs.encode(probe + "<|pad|>", allowed_special="all"))) + "\n"
    assert leftovers(tmp_path) == []


def test_show_marks_each_token_and_prints_ids_and_count():
    out = ok(minembed_cli("show", "--encoding", "gpt2", "Hello world,\nhi"))
    ids = tiktoken_ref.get_encoding("gpt2").encode_ordinary("Hello world,\nhi")
    assert out.splitlines() == [
        "[Hello][ world][,][\\n]",
        "[hi]",
        f"ids: {' '.join(map(str, ids))}",
        f"{len(ids)} tokens, 15 characters, 15 bytes (gpt2)",
    ]


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["encode", "--encoding", "nope", "--text", "x"], 2, "unknown encoding 'nope': pass one of gpt2"),
        (["encode", "--encoding", "gpt2", "{missing}"], 1, "does not exist"),
        (["encode", "--encoding", "gpt2", "{latin1}"], 1, "is not UTF-8 text (byte 0xe9 at offset 7)"),
        (["train", "{good}", "--vocab-size", "100", "-o", "{out}"], 2, "--vocab-size 100 is too small"),
        (["train", "{good}", "--vocab-size", "300", "--pattern", "(", "-o", "{out}"], 2, "nor a valid regex"),
        (["train", "{good}", "--vocab-size", "300", "-o", "{good}/out"], 1, "does not exist; create it first"),
        (["train", "{latin1}", "--vocab-size", "300", "-o", "{out}"], 1, "is not UTF-8 text"),
        (["decode", "--encoding", "gpt2", "1", "99999999"], 2, "99999999 is not a token id of gpt2"),
        (["decode", "--encoding", "gpt2", "one"], 2, "'one' is not a token id"),
        (["encode", "--encoding", "gpt2", "--bogus"], 2, "unrecognized arguments"),
        (["plot", "positions", "-o", "{out}"], 2, "should end in .png"),
        (["bench", "--only", "nope"], 2, "--only nope: no such benchmark; choose from"),
        (["train-lm", "{good}", "--steps", "0"], 2, "--steps 0 is too small"),
        (["train-lm", "{good}", "-o", "{good}.pt"], 2, "must end in .npz or .safetensors"),
        (["train-lm", "{missing}"], 1, "does not exist"),
        (["train-lm", "{good}", "--vocab-size", "258", "--context-length", "500"], 2, "too few for context_length=500"),
    ],
)
def test_bad_input_gets_one_line_and_the_exit_status(tmp_path, args, status, message):
    files = {
        "missing": tmp_path / "missing.txt",
        "latin1": tmp_path / "latin1.txt",
        "good": tmp_path / "good.txt",
        "out": tmp_path / "out.encoding",
    }
    files["latin1"].write_bytes("abc café".encode("latin-1"))
    files["good"].write_text("some text " * 10, encoding="utf-8")
    result = minembed_cli(*[a.format(**files) for a in args])
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert message in stderr and stderr.startswith("minembed"), stderr
    assert not files["out"].exists() and leftovers(tmp_path) == []


def test_debug_shows_the_traceback(tmp_path):
    result = minembed_cli("--debug", "encode", "--encoding", "gpt2", tmp_path / "missing.txt")
    assert result.returncode == 1 and "Traceback" in result.stderr.decode()


def test_bench_outside_a_source_checkout_says_so(tmp_path):
    import shutil

    site = tmp_path / "site"
    shutil.copytree(REPO_ROOT / "minembed", site / "minembed", ignore=shutil.ignore_patterns("__pycache__"))
    result = minembed_cli("bench", "--quick", env=cli_env(PYTHONPATH=str(site)), cwd=tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and len(stderr.splitlines()) == 1, stderr
    assert "no benchmarks/ folder next to the minembed package" in stderr


def test_no_command_runs_the_demo():
    from minembed.cli import _with_default_command, build_parser

    for argv in ([], ["--debug"], ["--encoding", "gpt2"], ["--text", "f.txt"]):
        args = build_parser().parse_args(_with_default_command(argv))
        assert args.command == "demo", argv
    assert _with_default_command(["encode", "x"]) == ["encode", "x"]


def test_show_alternates_two_colours_on_a_terminal():
    from minembed.commands.show import render

    marked = render([b"Hel", b"lo", b" \xe2\x80", b"\x9c\n", b"x"], colour=True)
    blue, orange, reset = "\x1b[30;48;5;153m", "\x1b[30;48;5;223m", "\x1b[0m"
    assert marked == (
        f"{blue}Hel{reset}{orange}lo{reset}{blue} \\xe2\\x80{reset}{orange}\\x9c\\n{reset}\n{blue}x{reset}"
    )


def test_the_demo_is_a_list_of_stages_that_one_line_extends(capsys):
    from minembed.demos import pipeline

    def extra_stage(state):
        state.extras["windows seen"] = state.x.shape
        pipeline.check("the extra stage sees the first batch", state.x.shape == (4, 16))

    small = pipeline.DemoConfig(
        text=TEXTS["a.txt"] * 40,
        bpe_vocab_size=300,
        context_length=16,
        stride=8,
        batch_size=4,
        big_vocab=1000,
        big_dim=16,
        big_batch=(2, 32),
    )
    state = pipeline.run(small, [*pipeline.STAGES, ("an extra stage", extra_stage)])
    out = capsys.readouterr().out
    assert f"\n== {len(pipeline.STAGES) + 1}. an extra stage\n" in out
    assert "== 5. a realistic batch: table 1000 x 16, ids (2, 32)" in out
    assert out.count(": ok") == 12 and "FAILED" not in out and out.endswith("all checks passed\n")
    assert state.extras["windows seen"] == (4, 16) and state.encoding.n_vocab == 300


def test_the_command_and_viz_never_import_matplotlib_or_the_oracles_until_drawing():
    script = (
        "import sys, minembed.cli, minembed.viz, minembed.commands.plot, minembed.commands.bench;"
        "minembed.cli.build_parser();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'torch', 'tiktoken', 'rustbpe')))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(), check=True)
    assert result.stdout.strip() == "[]"


def test_train_lm_trains_reports_and_saves_a_model_that_loads(tmp_path):
    from minembed.models import TinyLM

    story = tmp_path / "story.txt"
    story.write_text("".join(TEXTS.values()) * 40, encoding="utf-8")
    model_path = tmp_path / "lm.npz"
    out = ok(
        minembed_cli(
            "train-lm",
            story,
            "--steps",
            "30",
            "--vocab-size",
            "300",
            "--d-model",
            "16",
            "--context-length",
            "8",
            "--batch-size",
            "4",
            "-o",
            model_path,
        )
    )
    assert "sample before training" in out and "sample after training" in out
    assert "step    30/30" in out, out
    model = TinyLM.load(model_path)
    assert model.config["vocab_size"] == 300 and model.config["d_model"] == 16
    assert leftovers(tmp_path) == []
