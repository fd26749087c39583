"""The ``--state`` file: written atomically (temp file, fsync, rename), at most every ``interval`` seconds.

Writes are coalesced by a background thread so a burst of 1,000 submissions costs a handful of writes,
and :meth:`StateFile.close` writes whatever is still pending, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class StateFile:
    def __init__(self, path: str | os.PathLike[str], interval: float = 0.5) -> None:
        self.path = Path(path)
        self.interval = interval
        self._snapshot: Callable[[], bytes] | None = None
        self._dirty = False
        self._dirty_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> bytes | None:
        return self.path.read_bytes() if self.path.exists() and self.path.stat().st_size else None

    def attach(self, snapshot: Callable[[], bytes]) -> None:
        """Start writing what ``snapshot`` returns whenever :meth:`changed` is called."""
        self._snapshot = snapshot
        self._thread = threading.Thread(target=self._loop, name="emulator-state-writer", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        with self._dirty_lock:
            self._dirty = True
        self._wake.set()

    def close(self) -> None:
        """Stop the writer after writing any pending change; a no-op when nothing changed."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._closed.wait(self.interval)  # coalesce a burst of changes; cut short by close()
            self._wake.clear()
            with self._dirty_lock:
                dirty, self._dirty = self._dirty, False
            if dirty:
                self._write()
            if self._closed.is_set() and not self._dirty:
                return

    def _write(self) -> None:
        if self._snapshot is None:
            return
        data = self._snapshot()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError:
            log.exception("could not write the state file %s", self.path)
            Path(temp).unlink(missing_ok=True)
