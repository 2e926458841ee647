"""The benchmark table's goal check (benchmarks/suite.goal_met) reads each goal as its scripts write it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}_for_test", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("scaling", "met"), [(1.88, True), (1.70, True), (1.59, False)])
def test_word2vec_scaling_goal_is_met_exactly_when_the_scaling_reaches_its_target(scaling, met):
    suite, word2vec = load("suite"), load("bench_word2vec")
    row = {"goal": word2vec.SCALING_GOAL, "ratio": scaling / word2vec.SCALING}
    assert suite.goal_met(row) is met


@pytest.mark.parametrize(("ratio", "goal", "met"), [(1.2, ">= 1.0x", True), (0.86, ">= 1.0x", False), (2.0, "", None)])
def test_plain_goals(ratio, goal, met):
    assert load("suite").goal_met({"goal": goal, "ratio": ratio}) is met
