"""NumPy's BLAS on one thread per call, for work that minembed itself splits between two threads.

NumPy's BLAS (OpenBLAS in its wheels) runs each large product on its own pool of threads, and
the idle workers of that pool spin for a while after every call (2**28 cycles by default). In a
training step, where products alternate with minembed's kernels, the spinning worker holds one
of the cores, so the kernels between the products get only the other: in TinyLM's step, its
embedding forward took 2.8 ms instead of 0.2. With BLAS on one thread per call, the caller and
minembed's helper thread (minembed._threads) each take half of the rows, products and kernels
alike, and no thread waits on another.

threadpoolctl is the public way to read and set a BLAS library's thread count; the count is
restored when the last open block ends. It is global to the process: other threads' products in
the meantime also run on one thread. threadpoolctl lets one thread at a time set OpenBLAS's count
(the first that set it, while it lives): a block opened on another thread yields False, and its
caller keeps the work on one thread, as it does when no BLAS library is found.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_controller = None  # threadpoolctl's view of the loaded BLAS libraries, made on first use (about 6 ms)
_users = 0  # how many blocks are open: the first one sets one thread, the last one restores the count
_limiter = None


def _blas_controller():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


@contextlib.contextmanager
def one_thread_per_call() -> Iterator[bool]:
    """Within the block, NumPy's BLAS runs each call on its calling thread alone.

    Yields whether every BLAS library now runs on one thread: False when none is found or its
    count could not be set (then calls keep their threads, and the caller should not split its
    work in two).
    """
    global _users, _limiter
    with _lock:
        libraries = _blas_controller().lib_controllers
        if _limiter is None and libraries:
            _limiter = _blas_controller().limit(limits=1)
        _users += 1
        limited = bool(libraries) and all(library.num_threads == 1 for library in libraries)
    try:
        yield limited
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None
