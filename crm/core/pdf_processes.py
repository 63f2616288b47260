"""PDFs printed in a process beside the app, so that printing does not hold the interpreter.

WeasyPrint's layout is Python: printing a receipt takes 60-100 ms of the interpreter's lock. On the
embedded default the jobs run on a thread of the web process (crm/core/jobs/background.py), so a
receipt printed there slowed every request served meanwhile. Handed to a process of its own, the
printing runs on another core while the thread waits (the lock released) and the requests go on.

``PDF_PROCESSES`` sets how many: by default 1 where the jobs run on the thread, 0 elsewhere (RQ
workers and gunicorn workers are processes already, and the tests print in-process). Nothing
about the PDF changes: the same HTML and base URL go to the same WeasyPrint call.
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from flask import current_app, has_app_context

from crm.core.jobs.background import in_background

log = logging.getLogger("crm.core.pdf")

_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}  # by size, one per process


def write_pdf(html: str, base_url: str) -> bytes:
    from weasyprint import HTML  # lazy: heavy, and it needs Pango, which only printing should require

    return HTML(string=html, base_url=base_url).write_pdf()


def processes() -> int:
    """How many printing processes this app uses (0: print in the calling thread)."""
    if not has_app_context():
        return 0
    configured = current_app.config.get("PDF_PROCESSES")
    if configured is not None:
        return int(configured)
    return 1 if in_background(current_app) else 0


def _pool(size: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(size)
        if pool is None:
            # spawn, not fork: the web process has threads (a fork would copy their locks held)
            pool = _pools[size] = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("spawn"))
        return pool


def _drop(size: int, pool: ProcessPoolExecutor) -> None:
    with _lock:
        if _pools.get(size) is pool:
            del _pools[size]
    pool.shutdown(wait=False, cancel_futures=True)


def print_pdf(html: str, base_url: str) -> bytes:
    size = processes()
    if size <= 0:
        return write_pdf(html, base_url)
    pool = _pool(size)
    try:
        return pool.submit(write_pdf, html, base_url).result()
    except BrokenProcessPool:  # the printing process died (killed, out of memory): print here, start anew next time
        log.warning("the PDF printing process stopped; printing in this process")
        _drop(size, pool)
        return write_pdf(html, base_url)


@atexit.register
def _shutdown() -> None:
    for size, pool in list(_pools.items()):
        _drop(size, pool)
