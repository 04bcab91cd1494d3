import logging
import os
import tempfile
import warnings

import pydantic
import pytest
from secret_sentinel import SENTINEL

import clusterdb_nb as cdb
from clusterdb_nb.errors import ComputeError

VIRTUAL = {"clock": "virtual", "seed": 7, "path": ":memory:"}

# Prices refreshed on this machine (`clusterdb catalog refresh`) must not change what the tests see.
os.environ["CLUSTERDB_CATALOG_DIR"] = tempfile.mkdtemp(prefix="clusterdb-catalog-")


@pytest.fixture
def s():
    """A session on a fresh in-memory local cloud with a virtual clock."""
    session = cdb.connect(local=VIRTUAL)
    yield session
    session.close()


@pytest.fixture
def web(s):
    """s with a 5-instance t3.medium fleet 'web-fleet' booted (clock advanced past boot)."""
    s.create_fleet(cdb.FleetConfig("web-fleet", "Web Application Fleet").with_capacity(5).with_instance_type("t3.medium"))
    s.local.advance("1min")
    return s


class SecretWatch(logging.Handler):
    """Every secret a test configures (each ``SecretStr`` of 8+ characters, and ``SENTINEL``), and every
    log message, warning and clusterdb_nb error message the test produced, to be checked against them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = {SENTINEL}
        self.texts: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(("log record", record.getMessage()))

    def leaks(self) -> list[str]:
        return [f"{kind}: {text[:200]!r}" for kind, text in self.texts for secret in self.secrets if secret in text]


@pytest.fixture(autouse=True)
def secrets_stay_secret(monkeypatch):
    """Fail a test whose log records, warnings or clusterdb_nb errors show a secret it configured."""
    watch = SecretWatch()
    secret_init = pydantic.types._SecretBase.__init__
    error_init = ComputeError.__init__
    warning_init = warnings.WarningMessage.__init__

    def on_secret(self, value, *args, **kw):
        if isinstance(value, str) and len(value) >= 8:
            watch.secrets.add(value)
        secret_init(self, value, *args, **kw)

    def on_error(self, message, **kw):
        error_init(self, message, **kw)
        watch.texts.append((type(self).__name__, " ".join(map(str, (self, self.cause, self.solution)))))

    def on_warning(self, message, *args, **kw):
        warning_init(self, message, *args, **kw)
        watch.texts.append(("warning", str(message)))

    monkeypatch.setattr(pydantic.types._SecretBase, "__init__", on_secret)
    monkeypatch.setattr(ComputeError, "__init__", on_error)
    monkeypatch.setattr(warnings.WarningMessage, "__init__", on_warning)
    logging.getLogger().addHandler(watch)
    try:
        yield watch
    finally:
        logging.getLogger().removeHandler(watch)
    leaks = watch.leaks()
    assert not leaks, "a configured secret was shown:\n" + "\n".join(leaks)
