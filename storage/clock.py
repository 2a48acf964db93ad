"""The time as the ledger records it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware, in UTC (SQLModel stores and returns aware UTC datetimes)."""
    return datetime.now(UTC)
