"""minembed._blas.one_thread_per_call and minembed._threads: one thread inside, the count after; the helper's queues."""

from __future__ import annotations

import threading

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from minembed import _threads
from minembed._blas import one_thread_per_call
from minembed._threads import one_numba_thread


def blas_thread_counts() -> list[int]:
    return [info["num_threads"] for info in ThreadpoolController().select(user_api="blas").info()]


def test_one_thread_inside_nested_blocks_and_the_count_restored_after_the_last():
    np.ones((2, 2)) @ np.ones((2, 2))  # NumPy's BLAS is loaded
    before = blas_thread_counts()
    assert before, "NumPy's BLAS should be visible to threadpoolctl"
    with one_thread_per_call() as limited:
        assert limited
        assert blas_thread_counts() == [1] * len(before)
        with one_thread_per_call():
            assert blas_thread_counts() == [1] * len(before)
        assert blas_thread_counts() == [1] * len(before)  # the outer block is still open
    assert blas_thread_counts() == before


def test_blocks_open_on_two_threads_say_whether_blas_is_on_one_thread_and_restore_the_counts():
    """threadpoolctl lets one thread set OpenBLAS's count, so a block on another thread may yield False;
    whatever a block yields must be true of the counts inside it, and the counts come back after both."""
    before = blas_thread_counts()
    inside, leave = threading.Event(), threading.Event()
    seen = {}

    def other_block():
        with one_thread_per_call() as limited:
            seen["worker"] = (limited, blas_thread_counts())
            inside.set()
            leave.wait(10)

    worker = threading.Thread(target=other_block)
    worker.start()
    assert inside.wait(10)
    with one_thread_per_call() as limited:
        seen["main"] = (limited, blas_thread_counts())
    leave.set()
    worker.join(10)
    for name, (limited, counts) in seen.items():
        assert limited == (counts == [1] * len(before)), name
    assert blas_thread_counts() == before


def test_an_exception_inside_the_block_still_restores_the_count():
    before = blas_thread_counts()
    try:
        with one_thread_per_call():
            raise KeyError("inside")
    except KeyError:
        pass
    assert blas_thread_counts() == before


def test_one_numba_thread_inside_the_block_and_the_count_restored_after_it_even_on_an_exception():
    previous = numba.get_num_threads()
    seen = []
    try:
        with one_numba_thread():
            seen.append(numba.get_num_threads())
            raise KeyError("inside")
    except KeyError:
        pass
    assert seen == [1]
    assert numba.get_num_threads() == previous


def test_shared_indices_are_each_taken_once_by_two_threads():
    indices = _threads.shared_indices(5000)
    taken = {0: [], 1: []}
    _threads.on_both(lambda worker: taken[worker].extend(_threads.take_until_empty(indices)))
    assert sorted(taken[0] + taken[1]) == list(range(5000))
    assert taken[0] == sorted(taken[0]) and taken[1] == sorted(taken[1])  # each thread takes them in order


def test_work_split_again_on_the_helper_runs_there_instead_of_waiting_for_itself():
    pieces = []

    def split_on_the_helper() -> None:
        _threads.in_two(lambda lo, hi: pieces.append(("in_two", lo, hi, threading.current_thread().name)), 10)
        _threads.on_both(lambda worker: pieces.append(("on_both", worker, threading.current_thread().name)))

    _threads.submit(split_on_the_helper).result(timeout=10)  # waiting on itself would never return
    names = {piece[-1] for piece in pieces}
    assert len(names) == 1 and names.pop().startswith("minembed-helper")
    assert [piece[:-1] for piece in pieces] == [("in_two", 0, 5), ("in_two", 5, 10), ("on_both", 0)]
