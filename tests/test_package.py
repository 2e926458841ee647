"""Package-level promises: no torch/tiktoken on import, and Numba caching on a read-only install."""
from __future__ import annotations

import os
import pkgutil
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import minembed

PACKAGE_DIR = Path(minembed.__file__).resolve().parent


def _all_submodules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="minembed."))


def test_importing_every_module_never_imports_torch_or_tiktoken():
    script = textwrap.dedent(
        f"""
        import importlib, sys
        for name in {_all_submodules()!r} + ["minembed"]:
            if name.endswith("__main__"):
                continue
            importlib.import_module(name)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "tiktoken", "rustbpe", "gensim"))
        print(",".join(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing minembed pulled in {out.stdout.strip()}"


def _read_only_command(argv: list[str], folders: list[Path]) -> list[str]:
    """argv, run where the folders cannot be written to.

    Permission bits do not bind root, so as root the folders are bind-mounted read-only in a
    private mount namespace; otherwise removing the write bits is enough.
    """
    if os.getuid() != 0:
        for folder in folders:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)
        return argv
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare(1): cannot make a read-only folder")
    mounts = " && ".join(f"mount --bind -o ro {shlex.quote(str(f))} {shlex.quote(str(f))}" for f in folders)
    return ["unshare", "-m", "sh", "-c", f"{mounts} && exec {shlex.join(argv)}"]


def test_kernels_compile_and_run_from_a_read_only_install(tmp_path):
    """Copy the package to a read-only folder, with a read-only home, and use a kernel from it."""
    install = tmp_path / "site"
    shutil.copytree(PACKAGE_DIR, install / "minembed", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "PYTHONPATH": str(install),
        "TMPDIR": str(scratch),
    }
    script = (
        "import numpy as np, minembed, minembed.nn.functional as F;"
        "print(minembed.__file__);"
        "print(F.embedding(np.array([1, 0]), np.eye(2, dtype=np.float32)).tolist())"
    )
    argv = _read_only_command([sys.executable, "-c", script], [install, home])
    out = subprocess.run(argv, env=env, cwd=scratch, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    imported_from, result = out.stdout.strip().splitlines()
    assert imported_from.startswith(str(install)), imported_from
    assert result == "[[0.0, 1.0], [1.0, 0.0]]"
    assert not list(install.rglob("*.nbi")), "Numba wrote into the read-only package"
    assert list(scratch.rglob("*.nbi")), "Numba cached nothing in the fallback directory"


def test_lazy_exports_match_all_and_resolve():
    assert set(minembed.__all__) == set(minembed._EXPORTS) | {"__version__"}
    for name in minembed.__all__:
        assert getattr(minembed, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        minembed.nope  # noqa: B018
