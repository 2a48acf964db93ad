"""What a member's milestones are counted from: the referrals they gave and the closed
business credited to them, all time, voided entries left out (one aggregate each)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, false, func, select, type_coerce
from sqlmodel import col

from storage.money_type import from_stored
from storage.tables import Referral, Thanks
from storage.units import Unit


async def referrals_given(unit: Unit, group_id: int, member_id: int) -> int:
    """How many referrals the member gave in the group (not voided)."""
    statement = select(func.count()).where(
        col(Referral.group_id) == group_id, col(Referral.giver_id) == member_id,
        col(Referral.voided) == false(),
    )  # fmt: skip
    return int((await unit.session.exec(statement)).one()[0])  # type: ignore[call-overload]


async def credited(unit: Unit, group_id: int, member_id: int, currency: str) -> Decimal:
    """The closed business credited to the member in the group, in `currency` (not voided)."""
    plain = type_coerce(col(Thanks.amount), Numeric())  # converted with `from_stored`
    statement = select(func.sum(plain)).where(
        col(Thanks.group_id) == group_id, col(Thanks.to_id) == member_id,
        col(Thanks.voided) == false(), col(Thanks.amount).is_not(None),
        col(Thanks.currency) == currency,
    )  # fmt: skip
    value = (await unit.session.exec(statement)).one()[0]  # type: ignore[call-overload]
    return Decimal(0) if value is None else from_stored(value, unit.dialect_name)
