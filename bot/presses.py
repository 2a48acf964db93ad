"""A pressed button as the command it stands for, in the group the button names.

`bot.buttons` says what a button acts on; here that becomes a command: a status button the
`/status` its receiver could type (with the amount typed into the platform's form, or the
steps that ask for it), an RSVP button the answer for its own occurrence, a steps button
an answer to those steps, a group button the private chat's choice.
"""

from __future__ import annotations

from bot import buttons, grammar, lines
from bot import commands as c

STALE = "That button no longer works; send the command instead (/help lists them)."
NOT_YOURS = "That button is for {name}, not for you: nothing was done."
NOT_MEMBER = "That button is for the members of {group}, and you are not one: nothing was done."


def command_of(press: buttons.Press, typed: str, currency: str) -> c.Command | grammar.Malformed:
    """The command a press stands for; `typed` is what the presser typed with it (an amount),
    or `buttons.ASK` to be asked for it first."""
    if press.kind == buttons.STATUS:
        if press.choice == "won" and typed == buttons.ASK:
            return c.StartSteps("amount", press.number)
        line = lines.status_line(press.number, press.choice, typed)
        try:
            return grammar.parse(line, currency)
        except grammar.Malformed as error:
            return error
    if press.kind == buttons.RSVP:
        return c.AnswerMeeting(press.choice, on=press.occurrence)
    if press.kind == buttons.STEP:
        return c.AnswerStep(token=press.target, choice=press.choice)
    return c.PickGroup(press.group_id)
