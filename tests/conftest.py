"""Test-wide settings: Hypothesis profiles and the shared-data fixtures.

MINEMBED_HYPOTHESIS_EXAMPLES sets how many examples each property test draws (default 60);
raise it for a deeper run, e.g. `MINEMBED_HYPOTHESIS_EXAMPLES=1000 pytest`.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from reference.shared import corpus_paths, encodings_dir, shared_data_dir

settings.register_profile(
    "minembed",
    max_examples=int(os.environ.get("MINEMBED_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("minembed")


@pytest.fixture(scope="session")
def shared_data():
    return shared_data_dir()


@pytest.fixture(scope="session")
def corpora():
    """{file name: text} for every shared corpus."""
    return {p.name: p.read_text(encoding="utf-8") for p in corpus_paths()}


@pytest.fixture(scope="session")
def shared_encodings():
    return encodings_dir()


@pytest.fixture(scope="session", autouse=True)
def _minembed_encodings_offline():
    """Point `minembed.get_encoding` at the shared encoding files and forbid downloads.

    Values already set by the caller win; the environment is restored at the end.
    """
    saved = {key: os.environ.get(key) for key in ("MINEMBED_ENCODINGS_DIR", "MINEMBED_OFFLINE")}
    os.environ.setdefault("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
    os.environ.setdefault("MINEMBED_OFFLINE", "1")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
