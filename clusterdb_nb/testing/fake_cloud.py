"""What every offline cloud fake shares: its clock, injected faults, quotas, latency and the
``responses`` mock that serves its REST API at the cloud's real hostnames.

A fake subclasses :class:`FakeCloud`, registers its routes in :meth:`FakeCloud.routes` and keeps its
resources in plain dicts; the handle users get is the same for every cloud::

    with fake_gcp() as cloud:                  # a FakeCloud subclass
        s = cdb.connect(gcp={...})
        cloud.inject("stockout", times=1)      # the next matching call fails as the real service would
        cloud.set_quota("CPUS", 8)
        cloud.advance("5min")                  # operations finish, instances boot
"""

from __future__ import annotations

import abc
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .. import durations
from ..errors import ValidationError

__all__ = ["FakeCloud", "Fault", "Handler", "START"]

Handler = Callable[[Any], tuple[int, dict[str, str], str]]
START = datetime(2026, 1, 5, tzinfo=timezone.utc)


@dataclass
class Fault:
    """A failure waiting for the next request it matches."""

    kind: str
    times: int
    match: re.Pattern[str] | None = None


@dataclass
class FakeCloud(abc.ABC):
    """Base of the offline fakes: a virtual clock, faults, quotas and per-call latency.

    ``polls`` is how many reads of a long-running operation stay "running" before it is done;
    ``latency`` (seconds) is slept in every request, to measure concurrency.
    """

    FAULTS = frozenset[str]()

    polls: int = 1
    latency: float = 0.0
    start: datetime = START
    quotas: dict[str, float] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    _offset: float = 0.0
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _follow: Callable[[], pd.Timestamp] | None = None

    # -- the clock -------------------------------------------------------------
    @property
    def now(self) -> pd.Timestamp:
        """The fake's time: its own virtual clock, or the local cloud's it follows."""
        if self._follow is not None:
            return self._follow()
        moment: pd.Timestamp = pd.Timestamp(self.start) + pd.Timedelta(seconds=self._offset)
        return moment

    def advance(self, duration: Any) -> pd.Timestamp:
        """Move the fake's time forward (``"5min"``, seconds, a Timedelta) and return the new time."""
        if self._follow is not None:
            raise ValidationError(
                "advance: this fake follows a session's local clock",
                field="duration",
                solution="Advance the session: s.local.advance(...)",
            )
        with self._lock:
            self._offset += durations.seconds(duration)
        return self.now

    def follow(self, clock: Callable[[], pd.Timestamp]) -> None:
        """Take time from ``clock`` (e.g. ``lambda: s.local.now``) instead of the fake's own."""
        self._follow = clock

    # -- faults and quotas -----------------------------------------------------------
    def inject(self, fault: str, times: int = 1, match: str | None = None) -> None:
        """Make the next ``times`` requests that can fail with ``fault`` (and whose URL matches ``match``) fail."""
        if fault not in self.FAULTS:
            raise ValidationError(
                f"fault: {fault!r} is not one of {', '.join(sorted(self.FAULTS))}",
                field="fault",
                rule=" | ".join(sorted(self.FAULTS)),
            )
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValidationError(f"times: must be an integer >= 1 (got {times!r})", field="times", rule="integer >= 1")
        with self._lock:
            self._faults.append(Fault(fault, times, re.compile(match) if match else None))

    def take_fault(self, kinds: set[str], url: str) -> str | None:
        """The first injected fault among ``kinds`` that matches ``url``, used up once; None when there is none."""
        with self._lock:
            for f in self._faults:
                if f.kind in kinds and (f.match is None or f.match.search(url)):
                    f.times -= 1
                    if f.times == 0:
                        self._faults.remove(f)
                    return f.kind
        return None

    def set_quota(self, metric: str, limit: float) -> None:
        """Set quota ``metric`` (the cloud's own name, e.g. ``"CPUS"``) to ``limit``."""
        self.quotas[metric] = float(limit)

    # -- serving -------------------------------------------------------------------
    @abc.abstractmethod
    def routes(self) -> Iterator[tuple[str, re.Pattern[str], Handler]]:
        """(method, URL pattern, handler) of every REST call the fake serves."""

    def _serve(self, handler: Handler) -> Handler:
        def serve(request: Any) -> tuple[int, dict[str, str], str]:
            if self.latency:
                time.sleep(self.latency)
            with self._lock:
                self.calls.append((request.method, request.url))
                return handler(request)

        return serve

    @contextmanager
    def serving(self) -> Iterator[FakeCloud]:
        """Serve the routes through ``responses`` for the duration of the block."""
        import responses

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for method, pattern, handler in self.routes():
                mock.add_callback(method, pattern, callback=self._serve(handler))
            yield self
