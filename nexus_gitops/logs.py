"""How the CLI's messages are written: plain lines for people, JSON lines for log collectors.

Library code never prints; it raises errors or returns results, and a few modules log progress
at DEBUG or INFO (a lost push race, a retry). The CLI routes those records and its own messages
through one handler, chosen by ``--log-format`` and the ``-v``/``-q`` counts, so a CronJob's log
(read by Loki or Elasticsearch) gets one JSON object per line and a person gets the same words
as plain text. Data a command was asked for (a plan table, ``-o json``) is not a message: it
always goes to stdout unchanged.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import sys
from typing import TextIO

ROOT = "nexus_gitops"


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


_PREFIXES = {
    logging.DEBUG: "debug: ",
    logging.WARNING: "warning: ",
    logging.ERROR: "error: ",
    logging.CRITICAL: "internal error: ",  # a bug, not a user error
}


class _Text(logging.Handler):
    """``warning: ...`` and ``error: ...`` on stderr; results (INFO) on stdout, as before."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        stream: TextIO = sys.stdout if record.levelno == logging.INFO else sys.stderr
        prefix = _PREFIXES.get(record.levelno, "")
        stream.write(prefix + message + "\n")
        stream.flush()


class _Json(logging.Handler):
    """One JSON object per line on stderr: time (UTC, RFC 3339), level, logger, message."""

    def emit(self, record: logging.LogRecord) -> None:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stderr.flush()


def level_for(verbose: int, quiet: int) -> int:
    """Default INFO (results and warnings); ``-v`` adds DEBUG; ``-q`` drops results, ``-qq``
    warnings too. Errors are always written."""
    steps = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]
    return steps[max(0, min(len(steps) - 1, 1 - verbose + quiet))]


def configure(log_format: LogFormat, verbose: int = 0, quiet: int = 0) -> logging.Logger:
    """Install the one handler on the package's root logger (replacing an earlier one)."""
    logger = logging.getLogger(ROOT)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.addHandler(_Json() if log_format is LogFormat.JSON else _Text())
    logger.setLevel(level_for(verbose, quiet))
    logger.propagate = False
    return logger
