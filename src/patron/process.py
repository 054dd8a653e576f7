"""Process-wide tuning for bulk work, and starting helper processes."""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.context
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between young-generation collections during bulk work (Python's default: 700).
# A batch of 5,000 records is ~100,000 live objects; at the default every batch set off
# thousands of young and some twenty full collections walking them (2.4 s of a 100,000-row
# import's ~6 s in bench/import.py). Collections still happen, so cycles cannot pile up.
BULK_GC_THRESHOLD = (100_000, 50, 100)
_bulk_lock = threading.Lock()
_bulk_jobs = 0
_saved_threshold: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the cyclic GC out of a bulk job's way, and objects alive before it out of its scans.

    Every full collection otherwise walks them all again (modules, caches, library tables):
    on bench/import.py this takes imports from ~11,000 to ~17,000 rows/s. Young objects are
    collected in larger steps while it runs (BULK_GC_THRESHOLD). The last job to end hands the
    objects back to the collector and restores its thresholds, so a long-running server keeps
    nothing and jobs in several threads may overlap.
    """
    global _bulk_jobs, _saved_threshold
    with _bulk_lock:
        if _bulk_jobs == 0:
            _saved_threshold = gc.get_threshold()
            gc.set_threshold(*BULK_GC_THRESHOLD)
        _bulk_jobs += 1
        gc.freeze()
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_jobs -= 1
            if _bulk_jobs == 0:
                gc.set_threshold(*_saved_threshold)
                gc.unfreeze()


def process_context() -> multiprocessing.context.BaseContext:
    """How to start a helper process: fork when this process has one thread, else spawn.

    fork starts a process in ~10 ms with everything imported; spawn re-imports it all (~0.6 s).
    Forking a process that has other threads (`patron serve` runs the worker in one) can copy a
    lock another thread holds.
    """
    forkable = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if forkable else "spawn")
