"""The README's tour runs as written (on the-verdict as corpus.txt) and its Quickstart is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from reference import torch_random
from reference.shared import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_tour_runs_as_written(tmp_path, monkeypatch, corpora, capsys):
    tour = README[README.index("## A tour") :]
    code = re.search(r"```python\n(.*?)```", tour, re.S).group(1)
    (tmp_path / "corpus.txt").write_text(corpora["the-verdict.txt"], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md#a-tour", "exec"), {})
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "(8, 64, 768) (50257, 768)"
    # The tour opens with the course's example: torch's own table, printed by minembed.
    (torchs_table,) = torch_random.module_init("Embedding", 123, num_embeddings=6, embedding_dim=3)
    assert "\n".join(out[:-1]) == str(torchs_table)
    # ... and the comment under it shows what it prints.
    shown = re.search(r"bit for bit what torch prints:\n(.*?)\n\n", code, re.S).group(1)
    assert shown.replace("# ", "").replace("#  ", " ") == "\n".join(out[:-1])


def test_ci_runs_the_readme_test_command():
    quickstart = README[README.index("## Quickstart") : README.index("## A tour")]
    commands = [line for line in quickstart.splitlines() if line.startswith("python3 -m venv")]
    assert len(commands) == 2, "the Quickstart must have exactly two commands"
    ci = Path(PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()
