"""Several processes running the same benchmark work at once: the server's rate with several
people at work, as opposed to one process's round trips one after another."""
from __future__ import annotations

import multiprocessing
import os
import time


def _run(worker, job, barrier, done):
    done.put(worker(job, barrier.wait))


def run_parallel(worker, jobs: list, timeout: float = 600) -> tuple[int, float, float]:
    """Start one process per job (spawned: each builds its own app, engine and connections) calling
    ``worker(job, ready)``, which warms up, calls ``ready()`` and returns how many operations it did
    after that. Timing starts when every process is ready. Returns (operations, wall seconds, load
    average after). ``worker`` must be a module-level function."""
    ctx = multiprocessing.get_context("spawn")
    barrier, done = ctx.Barrier(len(jobs) + 1), ctx.Queue()
    procs = [ctx.Process(target=_run, args=(worker, job, barrier, done)) for job in jobs]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    counts = [done.get(timeout=timeout) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return sum(counts), elapsed, os.getloadavg()[0]
