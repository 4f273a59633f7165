"""Rendered summary representations of cases, reused while their ETag holds.

A viewer's `GET /cases/{id}` (the summary representation: no personal data, no
audit record) is what dashboards poll. Rendering it costs five queries, the
working-day evaluation of every deadline and a serialisation; this cache keeps the
rendered JSON keyed by what the case's ETag is made of (case id, version, today)
plus the roles reaching the case (they decide `allowed_actions`, as in the
next-actions tag). A key holds the version read with the body, so an entry can
never be served for another version of the case, in this worker or any other;
what the ETag does not cover (see workflow/reads/etags.py) is equally stale
here. Personal representations are never cached. Bounded, least recently used
first out; safe from the event loop and worker threads.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import date

SummaryKey = tuple[uuid.UUID, int, date, tuple[str, ...]]


class SummaryCache:
    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[SummaryKey, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: SummaryKey) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def put(self, key: SummaryKey, body: bytes) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = body
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
