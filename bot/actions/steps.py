"""Guided steps and the private chat's group: the actions behind `bot.steps`.

The steps' state is a row per person (`storage.private`), written in the command's unit of
work, so that any instance reads the next answer; a button of steps that ended, or of
other steps, does nothing and says so. The finished command runs in the same unit, as if
typed, and the answer shows it.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from bot import commands as c
from bot import lines, steps
from bot.context import Context, Refusal
from bot.messages import Reply, to_sender
from bot.outside import Needs
from storage import directory, private
from storage.tables import key


def _person(ctx: Context) -> tuple[str, str, str]:
    chat = ctx.incoming.chat
    return chat.platform.value, chat.workspace_id or "", ctx.incoming.sender.user_id


async def _choices(ctx: Context) -> list[steps.Choice]:
    roster = await directory.active_members(ctx.session, ctx.group_id)
    return [steps.Choice(key(m), m.platform_user_id, m.name, m.username)
            for m in roster if m.id != ctx.member_id]  # fmt: skip


async def _ask(ctx: Context, state: steps.State, token: str) -> list[Reply]:
    await private.save_steps(ctx.unit, *_person(ctx), ctx.group_id, token, state.to_json(),
                             ctx.now + steps.EXPIRES)  # fmt: skip
    choices = await _choices(ctx) if state.stage == "member" else []
    return [steps.question(state, ctx.group_id, ctx.member_id, token, choices)]


async def start_steps(ctx: Context, cmd: c.StartSteps) -> list[Reply]:
    """The first question of the steps (new steps replace any unfinished ones)."""
    values = {} if cmd.number is None else {"number": str(cmd.number)}
    state = steps.start(cmd.kind, **values)
    if cmd.kind != "amount" and not await _choices(ctx):
        raise Refusal("There is nobody else in the group yet: they join with /join.")
    return await _ask(ctx, state, secrets.token_hex(4))


async def answer_step(ctx: Context, cmd: c.AnswerStep) -> list[Reply] | Needs[Any]:
    """An answer to the current question: the next question, or the finished command."""
    from bot import definitions, grammar, handlers  # here: the definitions import this module

    row = await private.current_steps(ctx.unit, *_person(ctx), ctx.now)
    if row is None or row.group_id != ctx.group_id or cmd.token not in (None, row.token):
        raise Refusal(steps.EXPIRED)
    state = steps.State.from_json(row.state)
    try:
        state = steps.take(state, cmd.text, cmd.choice, await _choices(ctx))
    except steps.StepRefused as refused:
        raise Refusal(str(refused)) from refused
    if state.kind == "thanks" and state.stage == "note" and state.values["amount"]:
        _check_amount(ctx, state)
    if not state.done:
        return await _ask(ctx, state, row.token)
    await private.clear_steps(ctx.unit, *_person(ctx))
    line, typed, mentioned = steps.command_line(state)
    try:
        command = grammar.parse(line, ctx.group.currency, mentioned)
    except grammar.Malformed as error:
        usage = error.spec.usage if error.spec else ""
        raise Refusal(f"{error.reason} The right form: {usage}. Nothing was recorded; "
                      "start again, or send the command typed out.") from error  # fmt: skip
    ctx.incoming = replace(ctx.incoming, text=line, mentioned=mentioned)
    result = await handlers.run(ctx, command, definitions.HANDLERS[type(command)])
    if isinstance(result, Needs):  # its outside work first; then this runs again
        return result
    return [to_sender(f"That is: {typed}"), *result]


def _check_amount(ctx: Context, state: steps.State) -> None:
    """The amount of a guided thanks, read as `/thanks` reads it, before the note is asked
    (a refusal keeps the question: the steps' row is rolled back with it)."""
    from bot import grammar  # here: the definitions, which the grammar reads, import this

    amount = state.values["amount"]
    try:
        line = lines.thanks_line(f"<@{state.values['user_id']}>", amount)
        parsed = grammar.parse(line, ctx.group.currency)
    except grammar.Malformed as error:
        raise Refusal(f"{error.reason} Reply with the amount again (e.g. 2,500), or - for "
                      "none.") from error  # fmt: skip
    if not isinstance(parsed, c.ThankMember) or parsed.amount is None:
        raise Refusal(f"{amount} is not an amount: reply with one (e.g. 2,500), or - for none.")


async def pick_group(ctx: Context, cmd: c.PickGroup) -> list[Reply]:
    """Remember the group for the sender's private chat."""
    await private.choose_group(ctx.unit, *_person(ctx), ctx.group_id, ctx.now)
    return [to_sender(f"Commands you send me here now go to {ctx.group.name}. Send your "
                      "command again.")]  # fmt: skip
