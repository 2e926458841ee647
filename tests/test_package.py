"""Package-level promises: no torch/tiktoken on import, and Numba caching on a read-only install."""

from __future__ import annotations

import os
import pkgutil
import re
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
        heavy = sorted(
            m for m in sys.modules
            if m.split(".")[0] in ("torch", "tiktoken", "rustbpe", "gensim", "dask", "distributed", "matplotlib")
        )
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


def _run_from_a_read_only_install(tmp_path, home_writable: bool, cache_dir: Path | None) -> Path:
    """Copy the package to a read-only folder and use a kernel from it; returns the install folder."""
    install = tmp_path / "site"
    shutil.copytree(PACKAGE_DIR, install / "minembed", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PYTHONPATH": str(install)}
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    script = (
        "import numpy as np, minembed, minembed.nn.functional as F;"
        "print(minembed.__file__);"
        "print(F.embedding(np.array([1, 0]), np.eye(2, dtype=np.float32)).tolist())"
    )
    argv = _read_only_command([sys.executable, "-c", script], [install] if home_writable else [install, home])
    out = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    imported_from, result = out.stdout.strip().splitlines()
    assert imported_from.startswith(str(install)), imported_from
    assert result == "[[0.0, 1.0], [1.0, 0.0]]"
    assert not list(install.rglob("*.nbi")), "Numba wrote into the read-only package"
    return home


def test_kernels_compile_and_cache_from_a_read_only_install(tmp_path):
    """Numba itself falls back to the user-wide cache (~/.cache/numba): minembed needs no code for it."""
    home = _run_from_a_read_only_install(tmp_path, home_writable=True, cache_dir=None)
    assert list((home / ".cache" / "numba").rglob("*.nbi")), "Numba cached nothing in the user-wide cache"


def test_numba_cache_dir_works_when_nothing_else_is_writable(tmp_path):
    """A read-only package and a read-only home: NUMBA_CACHE_DIR, Numba's public setting, is the fix."""
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    _run_from_a_read_only_install(tmp_path, home_writable=False, cache_dir=cache)
    assert list(cache.rglob("*.nbi")), "Numba cached nothing in NUMBA_CACHE_DIR"


def test_lazy_exports_match_all_and_resolve():
    assert set(minembed.__all__) == set(minembed._EXPORTS) | {"__version__"}
    for name in minembed.__all__:
        assert getattr(minembed, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        minembed.nope  # noqa: B018


def _pinned_range(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    pyproject = (PACKAGE_DIR.parent / "pyproject.toml").read_text(encoding="utf-8")
    low, high = re.search(rf'"{name}>=([\d.]+),<([\d.]+)"', pyproject).groups()
    return tuple(map(int, low.split("."))), tuple(map(int, high.split(".")))


def test_prefetch_compiles_on_the_pinned_numba_and_llvmlite():
    import llvmlite
    import numba
    import numpy as np

    from minembed import _prefetch

    for module in (numba, llvmlite):
        low, high = _pinned_range(module.__name__)
        installed = tuple(int(part) for part in module.__version__.split(".")[:3] if part.isdigit())
        assert low <= installed < high, f"{module.__name__} {module.__version__} is outside the pin in pyproject.toml"
    assert _prefetch.prefetch_row is _prefetch.hardware_prefetch_row
    assert _prefetch.prefetch_row_for_write is _prefetch.hardware_prefetch_row_for_write

    @numba.njit
    def gather_and_bump(table, ids, out):
        for i in range(ids.shape[0]):
            _prefetch.hardware_prefetch_row(table, ids[(i + 1) % ids.shape[0]])
            _prefetch.hardware_prefetch_row_for_write(table, ids[(i + 2) % ids.shape[0]])
            out[i] = table[ids[i]]
            table[ids[i], 0] += 1

    table = np.arange(250, dtype=np.float32).reshape(10, 25)  # 100-byte rows: they straddle cache lines
    expected_table, ids = table.copy(), np.array([3, 9, 0, 3])
    out = np.empty((4, 25), dtype=np.float32)
    gather_and_bump(table, ids, out)
    expected_out = expected_table[ids]
    expected_out[3, 0] += 1  # row 3 was bumped once before its second read
    np.testing.assert_array_equal(out, expected_out)
    np.add.at(expected_table[:, 0], ids, 1)
    np.testing.assert_array_equal(table, expected_table)
    ir = "".join(gather_and_bump.inspect_llvm().values())
    assert "llvm.prefetch" in ir
    assert re.search(r"call void @llvm\.prefetch\S*\([^,]+, i32 1,", ir), "no prefetch with write intent"


def test_prefetch_falls_back_to_no_hint_when_it_cannot_compile():
    from minembed import _prefetch

    def broken_probe(table):
        raise RuntimeError("no llvm.prefetch here")

    with pytest.warns(RuntimeWarning, match="run without it"):
        assert _prefetch.choose_prefetch_row(broken_probe) is _prefetch.no_prefetch_row

    import numba
    import numpy as np

    @numba.njit
    def gather(table, ids, out):
        for i in range(ids.shape[0]):
            _prefetch.no_prefetch_row(table, ids[i])
            out[i] = table[ids[i]]

    table = np.arange(12, dtype=np.float64).reshape(3, 4)
    out = np.empty((2, 4))
    gather(table, np.array([2, 0]), out)
    np.testing.assert_array_equal(out, table[[2, 0]])
