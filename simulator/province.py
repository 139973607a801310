"""The simulated province: dossiers arrive and progress as simulated time passes, and every change
is numbered in two feeds, the dossiers' (DongBoHoSoMC) and their progress (CapNhatTienDoHoSoMC)."""

from __future__ import annotations

import base64
import heapq
import secrets
from collections.abc import Hashable, Iterator
from datetime import datetime
from typing import Generic, TypeVar

from simulator.workload import Dossier, ProvincialWorkload

Key = TypeVar("Key", bound=Hashable)


class CursorError(ValueError):
    """A cursor this feed did not hand out."""


class ChangeFeed(Generic[Key]):
    """Keys in the order of their changes, numbered 1, 2, ...; a key changed again moves to the end.

    A page after position ``n`` lists each key changed since then once, at its latest change."""

    def __init__(self) -> None:
        self._keys: list[Key] = []
        self._latest: dict[Key, int] = {}

    @property
    def position(self) -> int:
        return len(self._keys)

    def append(self, key: Key) -> None:
        self._keys.append(key)
        self._latest[key] = len(self._keys)

    def page(self, after: int, limit: int) -> tuple[list[Key], int, bool]:
        """Up to ``limit`` keys changed after position ``after``, the position reached, and whether more follow."""
        if not 0 <= after <= self.position:
            raise CursorError("cursor beyond the end of the feed")
        keys: list[Key] = []
        position = after
        while position < self.position and len(keys) < limit:
            key = self._keys[position]
            position += 1
            if self._latest[key] == position:
                keys.append(key)
        while position < self.position and self._latest[self._keys[position]] != position + 1:
            position += 1  # superseded entries: skipped so that has_more means records follow
        return keys, position, position < self.position


class Province:
    """Dossiers of a :class:`ProvincialWorkload` from ``start`` on, as they stand at :attr:`now`."""

    def __init__(self, workload: ProvincialWorkload, start: datetime) -> None:
        self.now = start
        self.epoch = secrets.token_hex(4)  # tells this run's cursors from another's
        self.records: ChangeFeed[str] = ChangeFeed()
        self.progress: ChangeFeed[tuple[str, int]] = ChangeFeed()
        self._arrivals: Iterator[Dossier] = workload.arrivals(start)
        self._next = next(self._arrivals)
        self._dossiers: dict[str, Dossier] = {}
        self._reached: dict[str, int] = {}
        self._timeline: list[tuple[datetime, int, str]] = []  # (when, arrival number, MaHoSo) of next events
        self.arrived = 0

    def advance(self, until: datetime) -> None:
        """Let arrivals and events up to ``until`` happen, in time order."""
        while True:
            upcoming = self._timeline[0][0] if self._timeline else None
            if self._next.submitted <= until and (upcoming is None or self._next.submitted < upcoming):
                self._arrive()
            elif upcoming is not None and upcoming <= until:
                self._happen(heapq.heappop(self._timeline)[2])
            else:
                break
        self.now = max(self.now, until)

    def admit(self, count: int) -> None:
        """Move time on until at least ``count`` dossiers have arrived (a backlog before serving)."""
        while self.arrived < count:
            self.advance(self._next.submitted)

    def record(self, code: str) -> dict[str, object]:
        """The HoSo record of dossier ``code`` as it stands now."""
        return self._dossiers[code].state(self._reached[code])

    def progress_record(self, key: tuple[str, int]) -> dict[str, object]:
        code, index = key
        return self._dossiers[code].progress(index)

    def cursor(self, position: int) -> str:
        return base64.urlsafe_b64encode(f"{self.epoch}:{position}".encode()).decode()

    def position(self, cursor: str | None) -> int:
        """The feed position of a cursor; empty or None is the beginning."""
        if not cursor:
            return 0
        try:
            epoch, position = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
            number = int(position)
        except ValueError as error:  # binascii.Error and UnicodeDecodeError are ValueErrors
            raise CursorError("not a cursor of this feed") from error
        if epoch != self.epoch:
            raise CursorError("cursor of an earlier run of the simulator; start again from an empty cursor")
        return number

    def _arrive(self) -> None:
        dossier = self._next
        self._next = next(self._arrivals)
        self.arrived += 1
        self._dossiers[dossier.code] = dossier
        self._reached[dossier.code] = 0
        heapq.heappush(self._timeline, (dossier.submitted, self.arrived, dossier.code))

    def _happen(self, code: str) -> None:
        dossier = self._dossiers[code]
        index = self._reached[code]
        self._reached[code] = index + 1
        self.records.append(code)
        if dossier.events[index].status != 1:  # an online submission is the applicant's act, not progress
            self.progress.append((code, index))
        if index + 1 < len(dossier.events):
            heapq.heappush(self._timeline, (dossier.events[index + 1].at, self.arrived, code))
