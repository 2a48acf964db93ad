"""Conversion: of the referrals that were closed (won or lost), the share won.

Open and contacted referrals are not closed yet: they are counted apart, never as lost.
Voided referrals are left out before the counts reach here (`storage.reports`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Conversion:
    """Counts of referrals by how far they got."""

    won: int = 0
    lost: int = 0
    pending: int = 0  # open or contacted

    @classmethod
    def of(cls, by_status: Mapping[str, int]) -> Conversion:
        """From counts by status (open, contacted, won, lost)."""
        pending = by_status.get("open", 0) + by_status.get("contacted", 0)
        return cls(by_status.get("won", 0), by_status.get("lost", 0), pending)

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def percent(self) -> Decimal | None:
        """The share won of closed, in whole percent (half up); None when nothing is closed."""
        if not self.closed:
            return None
        share = Decimal(100 * self.won) / Decimal(self.closed)
        return share.quantize(Decimal(1), rounding=ROUND_HALF_UP)

    def describe(self) -> str:
        """`3 won of 4 closed (75%), 2 still open or contacted`; `nothing closed yet, ...`."""
        head = (
            "nothing closed yet"
            if self.percent is None
            else f"{self.won:,} won of {self.closed:,} closed ({self.percent}%)"
        )
        return f"{head}, {self.pending:,} still open or contacted"
