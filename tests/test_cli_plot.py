"""`minembed plot` and minembed.viz: valid PNGs of the asked size, with the expected labelled points."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from minembed import viz
from minembed.cli import main
from minembed.data import SlidingWindowDataset
from reference import tiktoken_ref
from tests.test_cli import cli_env, leftovers, minembed_cli, ok

pytest.importorskip("matplotlib")  # the optional extra; the package's other tests run without it


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG file"
    return struct.unpack(">II", data[16:24])


def test_embedding_of_word_vectors_and_windows_from_the_command_line(tmp_path):
    rng = np.random.default_rng(0)
    words = ["king", "queen", "man", "woman", "apple", "pear", "naïve"]
    vectors = tmp_path / "vectors.txt"
    lines = [f"{len(words)} 5"] + [w + " " + " ".join(f"{v:.5f}" for v in rng.standard_normal(5)) for w in words]
    vectors.write_text("\n".join(lines) + "\n", encoding="utf-8")
    picture = tmp_path / "words.png"
    out = ok(
        minembed_cli(
            "plot", "embedding", "--vectors", vectors, "--words", *words[:5], "--size", "640x480", "-o", picture
        )
    )
    assert out == f"wrote {picture} (640x480 PNG): 5 labelled points\n"
    assert png_size(picture) == (640, 480)

    windows = tmp_path / "windows.png"
    out = ok(minembed_cli("plot", "windows", "--num-tokens", 30, "--max-length", 8, "--stride", 4, "-o", windows))
    expected_windows = len(SlidingWindowDataset(np.arange(30), 8, 4))
    assert expected_windows == 6
    assert out.endswith(f"(1000x600 PNG): {expected_windows} labelled points\n")
    assert png_size(windows) == (1000, 600)
    assert leftovers(tmp_path) == []


def test_embedding_rows_of_a_fresh_table_labelled_by_token(tmp_path, capsys):
    picture = tmp_path / "tokens.png"
    tokens = [" king", " queen", " king", "Paris!"]
    assert main(["plot", "embedding", "--encoding", "gpt2", "--tokens", *tokens, "-o", str(picture)]) == 0
    ids = tiktoken_ref.get_encoding("gpt2").encode_ordinary(" king queen Paris!")
    assert capsys.readouterr().out.endswith(f"(1000x750 PNG): {len(set(ids))} labelled points\n")
    assert png_size(picture) == (1000, 750)


def test_token_length_histogram_counts_tiktoken_token_lengths(tmp_path, capsys, corpora):
    text = corpora["the-verdict.txt"]
    enc = tiktoken_ref.get_encoding("cl100k_base")
    lengths = [len(enc.decode_single_token_bytes(t)) for t in enc.encode_ordinary(text)]
    figure = viz.token_lengths_figure(lengths, size=(800, 500))
    counts = np.bincount(lengths)
    assert viz.labelled_points(figure) == [f"{counts[n]:,}" for n in np.flatnonzero(counts)]
    bars = figure.axes[0].patches
    assert [int(b.get_height()) for b in bars] == counts[np.flatnonzero(counts)].tolist()

    corpus = tmp_path / "verdict.txt"
    corpus.write_text(text, encoding="utf-8")
    picture = tmp_path / "lengths.png"
    assert main(["plot", "tokens", "--encoding", "cl100k_base", str(corpus), "-o", str(picture)]) == 0
    assert capsys.readouterr().out.endswith(f": {len(np.flatnonzero(counts))} labelled points\n")
    assert png_size(picture) == (1000, 600)


def test_positions_heatmap_shows_the_sinusoidal_table(tmp_path):
    from minembed.nn.functional import sinusoidal_positions

    table = sinusoidal_positions(50, 16)
    figure = viz.positions_figure(table, size=(700, 400))
    shown = np.asarray(figure.axes[0].images[0].get_array())
    np.testing.assert_array_equal(shown, table.T)  # features up, positions across
    picture = viz.save_png(figure, tmp_path / "positions.png")
    assert png_size(picture) == (700, 400)


def test_pca_keeps_the_distances_of_points_on_a_plane():
    rng = np.random.default_rng(1)
    plane = rng.standard_normal((2, 12))
    points = rng.standard_normal((20, 2)) @ plane + 3.0  # 20 points on a 2-D plane in 12-D
    projected = viz.pca_2d(points)

    def distances(x):
        return np.linalg.norm(x[:, None] - x[None], axis=-1)

    np.testing.assert_allclose(distances(projected), distances(points), atol=1e-9)
    assert projected.var(axis=0)[0] >= projected.var(axis=0)[1]  # the first axis holds the most variance


def test_missing_matplotlib_gets_the_install_hint(tmp_path):
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env = cli_env()
    env["PYTHONPATH"] = f"{fake.parent}:{env['PYTHONPATH']}"
    result = minembed_cli("plot", "positions", "-o", tmp_path / "p.png", env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and len(stderr.splitlines()) == 1, stderr
    assert "pip install 'minembed[plot]'" in stderr
    assert not (tmp_path / "p.png").exists()


def test_normalized_embedding_plots_directions_not_lengths():
    rng = np.random.default_rng(2)
    v, w, u = rng.standard_normal((3, 8))
    figure = viz.embedding_figure(np.stack([v, 5 * v, w, u]), ["v", "5v", "w", "u"], normalize=True, size=(300, 200))
    points = figure.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(points[0], points[1], atol=1e-12)  # same direction, same point
    assert viz.labelled_points(figure) == ["v", "5v", "w", "u"]
