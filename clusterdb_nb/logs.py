"""Logging under the ``clusterdb_nb`` logger: ``clusterdb --debug`` or ``CLUSTERDB_LOG=debug`` turn it on.

    >>> configure_logging("debug")   # clusterdb_nb's records at DEBUG and above go to stderr

The library itself only creates loggers (``logging.getLogger("clusterdb_nb....")``); an application, the
CLI or a notebook decides where records go. Secrets never reach a record: configuration secrets are
``SecretStr`` and API tokens are never formatted into a message.
"""

from __future__ import annotations

import logging
import sys

from .errors import ValidationError

__all__ = ["configure_logging"]

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "clusterdb_nb.cli"


def configure_logging(level: str | None) -> None:
    """Send ``clusterdb_nb``'s records at ``level`` (debug, info, warning, error) to stderr; None changes nothing."""
    if not level:
        return
    key = level.strip().lower()
    if key not in LEVELS:
        raise ValidationError(
            f"CLUSTERDB_LOG: {level!r} is not a log level",
            field="CLUSTERDB_LOG",
            rule=" | ".join(LEVELS),
            solution="Set CLUSTERDB_LOG to debug, info, warning or error (or pass --debug)",
        )
    logger = logging.getLogger("clusterdb_nb")
    logger.setLevel(LEVELS[key])
    if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
