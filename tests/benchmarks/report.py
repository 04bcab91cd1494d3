"""What the benchmarks share: paired timing of ours against a baseline, and the table printer."""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """The first column left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line.format(*r))


def paired(ours: Callable[[], float], base: Callable[[], float], repeat: int) -> tuple[float, float, float]:
    """Medians (ms) of ``repeat`` calls each of ``ours`` and ``base``, and the ratio of their minimums.

    Each call returns its own elapsed seconds. Both are warmed up once, then
    interleaved (alternating which goes first) so that background load and drift
    hit both sides alike. The ratio of minimums is the figure least disturbed by
    other processes: ours hands each call to the session's loop thread, which a
    busy machine may not schedule at once.
    """
    ours()
    base()
    samples: dict[Callable[[], float], list[float]] = {ours: [], base: []}
    for i in range(repeat):
        for run in (ours, base) if i % 2 == 0 else (base, ours):
            gc.collect()
            samples[run].append(run())
    return (
        statistics.median(samples[ours]) * 1000.0,
        statistics.median(samples[base]) * 1000.0,
        min(samples[ours]) / min(samples[base]),
    )
