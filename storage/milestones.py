"""What a member's milestones are counted from: the referrals they gave and the closed
business credited to them, all time, voided entries left out (one aggregate each, prepared:
the count runs after every `/refer`, on the hot path)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, bindparam, false, func, select, type_coerce
from sqlmodel import col

from storage.money_type import from_stored
from storage.statements import Prepared
from storage.tables import Referral, Thanks
from storage.units import Unit

_GIVEN = Prepared(
    select(func.count()).where(
        col(Referral.giver_id) == bindparam("member_id"),  # ix_referrals_giver
        col(Referral.voided) == false(),
        col(Referral.group_id) == bindparam("group_id"),
    )
)
_CREDITED = Prepared(
    select(func.sum(type_coerce(col(Thanks.amount), Numeric()))).where(  # see `from_stored`
        col(Thanks.to_id) == bindparam("member_id"),  # ix_thanks_to
        col(Thanks.voided) == false(),
        col(Thanks.group_id) == bindparam("group_id"),
        col(Thanks.amount).is_not(None),
        col(Thanks.currency) == bindparam("currency"),
    )
)


async def referrals_given(unit: Unit, group_id: int, member_id: int) -> int:
    """How many referrals the member gave in the group (not voided)."""
    return int(await unit.value(_GIVEN, {"group_id": group_id, "member_id": member_id}))


async def credited(unit: Unit, group_id: int, member_id: int, currency: str) -> Decimal:
    """The closed business credited to the member in the group, in `currency` (not voided)."""
    params = {"group_id": group_id, "member_id": member_id, "currency": currency}
    value = await unit.value(_CREDITED, params)
    return Decimal(0) if value is None else from_stored(value, unit.dialect_name)
