"""BackgroundJobs: one worker thread for the server, or at once (for tests and scripts)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("messenger.jobs")


class ThreadJobs:
    """Runs jobs one at a time on a daemon thread, started with the first job."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        self._queue.put(job)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="jobs", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job()
            except Exception:
                log.exception("a background job failed")


class InlineJobs:
    """Runs each job at once on the caller's thread: deterministic tests."""

    def submit(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            log.exception("a background job failed")
