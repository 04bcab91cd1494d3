"""Where refreshed prices live: one CSV per cloud in the user's data folder, written atomically.

The folder is ``$CLUSTERDB_CATALOG_DIR``, else ``$CLUSTERDB_HOME/catalog``, else
``<user data dir>/clusterdb-nb/catalog`` (platformdirs), never the installed package.
A file is written to a temporary name beside it and renamed over the old one, so a
reader sees the old file or the new one, never half of either::

    >>> write("aws", rows)          # rows: dicts with COLUMNS as keys
    PosixPath('/home/me/.local/share/clusterdb-nb/catalog/aws.csv')

Only the standard library is imported here (platformdirs when the folder is first asked for).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "ENV", "Stamp", "folder", "path", "stamp", "write"]

ENV = "CLUSTERDB_CATALOG_DIR"
COLUMNS = ["instance_type", "region", "vcpu", "memory_gib", "arch", "gpu", "category", "on_demand_usd", "spot_usd", "price_date"]
Stamp = tuple[str, int, int, int]
"""(path, mtime_ns, inode, size): changes whenever the file is replaced."""


def folder() -> Path:
    """The folder refreshed catalog files go to (see the module docstring)."""
    explicit = os.environ.get(ENV)
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("CLUSTERDB_HOME")
    if not home:
        import platformdirs

        home = platformdirs.user_data_dir("clusterdb-nb", appauthor=False)
    return Path(home).expanduser() / "catalog"


def path(provider: str) -> Path:
    """The refreshed file of one cloud, e.g. ``path("gcp")``; it may not exist."""
    return folder() / f"{provider}.csv"


def stamp(provider: str) -> Stamp | None:
    """The identity of the refreshed file of ``provider`` as it is now, None when there is none."""
    p = path(provider)
    try:
        st = p.stat()
    except OSError:
        return None
    return (str(p), st.st_mtime_ns, st.st_ino, st.st_size)


def write(provider: str, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``rows`` as ``provider``'s refreshed CSV: a temporary file, flushed, then renamed over the old one."""
    target = path(provider)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{provider}-", suffix=".csv.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({c: "" if row.get(c) is None else row[c] for c in COLUMNS})
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
