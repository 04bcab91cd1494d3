"""The local cloud's public handle (``s.local``): its clock, load traces, history and state file.

>>> s.local.advance("30min")
>>> s.local.attach_trace("web", cpu)      # a CPU % Series on a DatetimeIndex
>>> s.local.history("web")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ... import durations

if TYPE_CHECKING:
    from .provider import LocalProvider

__all__ = ["LocalCloud"]


class LocalCloud:
    """Handle on one local cloud: its clock, load traces and history.

    ``advance`` moves every virtual local cloud of the session (``others``) to the same time.
    """

    def __init__(self, provider: LocalProvider, others: Iterable[LocalProvider] = ()) -> None:
        self._provider = provider
        self._others = [p for p in others if p is not provider]

    @property
    def now(self) -> pd.Timestamp:
        """The local cloud's time (UTC)."""
        moment: pd.Timestamp = pd.Timestamp(self._provider.clock.now(), unit="s", tz="UTC")
        return moment

    def advance(self, duration: str | float | pd.Timedelta) -> pd.Timestamp:
        """Move the virtual clock forward (``"30min"``, ``"2h"``, seconds); returns the new time."""
        now = self._provider.advance(durations.seconds(duration))
        for other in self._others:
            if other.clock.virtual and self._provider.clock.virtual:
                other.advance(max(0.0, now - other.clock.now()))
        ts: pd.Timestamp = pd.Timestamp(now, unit="s", tz="UTC")
        return ts

    def attach_trace(self, fleet: str, cpu_percent: pd.Series) -> None:
        """Drive ``fleet``'s load from a CPU % series on a DatetimeIndex, replayed from now."""
        self._provider.attach_trace(fleet, cpu_percent)

    def history(self, fleet: str | None = None) -> pd.DataFrame:
        """Every recorded instance state change."""
        return self._provider.history(fleet)

    @property
    def path(self) -> str:
        """The SQLite file that keeps the local cloud's state (``":memory:"`` for a throwaway cloud)."""
        return str(self._provider.store.path)

    def reset(self, confirm: bool = False) -> dict[str, int] | None:
        """Delete every fleet, instance, function and invocation of the local cloud, after asking.

        ``confirm=True`` skips the question. Returns what was deleted, or None when the answer was no.

            >>> s.local.reset()
            Delete local cloud state at ~/.local/share/clusterdb-nb/local.db: 1 fleets, 8 instances, ...? [y/N] y
        """
        from . import reset as local_reset

        if not confirm:
            answer = input(f"Delete {local_reset.describe(self._provider)}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing deleted.")
                return None
        return local_reset.reset(self._provider)

    def set_security_group(self, name: str, ingress: list[dict[str, Any]]) -> None:
        """Create or replace security group ``name`` of the modelled network with these inbound rules.

        >>> s.local.set_security_group("web", ingress=[{"port": 443, "source": "0.0.0.0/0"}])
        """
        self._provider.set_security_group(name, ingress)

    def allow_ingress(self, group: str, port: int | str, source: str = "0.0.0.0/0", protocol: str = "tcp") -> None:
        """Add one inbound rule (a port, or a range ``"8000-8080"``) to ``group`` (created when missing)."""
        current = self.security_groups()
        kept = [
            {"ports": r.ports, "source": r.source, "protocol": r.protocol}
            for r in current[current["group"] == group].itertuples()
        ]
        self.set_security_group(group, [*kept, {"ports": str(port), "source": source, "protocol": protocol}])

    def revoke_ingress(self, group: str, port: int | str, source: str = "0.0.0.0/0", protocol: str = "tcp") -> None:
        """Remove the inbound rule of ``group`` for exactly this port (or range), source and protocol."""
        current = self.security_groups()
        kept = [
            {"ports": r.ports, "source": r.source, "protocol": r.protocol}
            for r in current[current["group"] == group].itertuples()
            if (r.ports, r.source, r.protocol) != (str(port), source, protocol)
        ]
        self.set_security_group(group, kept)

    def security_groups(self) -> pd.DataFrame:
        """Every inbound rule of the modelled network: group, protocol, ports, source."""
        return self._provider.security_groups()
