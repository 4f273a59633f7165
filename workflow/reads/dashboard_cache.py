"""The last dashboards computed in this process, by their entity tag.

A dashboard's tag (`etags.list_tag`) already changes whenever one of its figures
can: the change counter of the visible cases (every change of a case, its deadlines
or its actions bumps the case's version), today's date, the query and the caller's
grants and assignments. A tag that matches is answered 304 without computing
anything; this cache answers the same tag with 200 from memory, so a dashboard
polled by many callers (or by one without `If-None-Match`) is computed once per
change instead of once per request. It is exactly as fresh as the 304s, and correct
across workers: the tag is read from the database in the request's own snapshot.

Bounded (least recently used evicted); holds only figures (counts, deadline names,
case ids and local references: no personal data), never keyed by a token.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_ENTRIES = 256


class TagCache(Generic[V]):
    """A thread-safe LRU map from an entity tag to what was rendered for it."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        if entries < 1:
            raise ValueError("a cache holds at least one entry")
        self.entries = entries
        self._items: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tag: str) -> V | None:
        with self._lock:
            found = self._items.get(tag)
            if found is not None:
                self._items.move_to_end(tag)
            return found

    def put(self, tag: str, value: V) -> None:
        with self._lock:
            self._items[tag] = value
            self._items.move_to_end(tag)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
