"""Logging set-up: one format, the level from LOG_LEVEL, quiet libraries."""

from __future__ import annotations

import logging
import sys


def configure(level: str) -> None:
    """Log to stderr at `level`; third-party chatter only from WARNING up."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        force=True,
    )
    for noisy in ("alembic", "aiosqlite", "asyncio", "httpx", "apscheduler", "slack_bolt",
                  "slack_sdk", "telegram", "urllib3", "matplotlib"):  # fmt: skip
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
