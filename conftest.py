"""Settings for the doctests in minembed/ (tests/conftest.py serves the tests in tests/)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from reference.shared import encodings_dir


@pytest.fixture(autouse=True)
def _doctest_setup(request, monkeypatch, tmp_path_factory):
    """Doctests run in a scratch folder, see `np` and `minembed`, and read the encodings offline."""
    if type(request.node).__name__ != "DoctestItem":
        return
    if "MINEMBED_ENCODINGS_DIR" not in os.environ:
        monkeypatch.setenv("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
    if "MINEMBED_OFFLINE" not in os.environ:
        monkeypatch.setenv("MINEMBED_OFFLINE", "1")
    monkeypatch.chdir(tmp_path_factory.mktemp("doctest"))  # examples may write files
    import minembed

    namespace = request.getfixturevalue("doctest_namespace")
    namespace.update(np=np, minembed=minembed)
