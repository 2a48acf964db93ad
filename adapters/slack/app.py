"""The bolt `AsyncApp`: slash commands, mentions, buttons, modals and App Home, translated.

Every listener builds an `Incoming`, lets the core handle it (the core commits
before it returns) and only then answers Slack: the app runs with
`process_before_response=True`, so the HTTP answer leaves after the listener.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import incoming as inc
from adapters.slack import oauth, render, views
from adapters.slack.people import People
from bot import buttons
from bot.messages import ChatRef, Incoming, Platform, Reply, to_sender
from bot.service import Core
from bot.settings import Settings
from storage.database import Database

JsonDict = dict[str, Any]
MODALS = {"/refer": views.refer_modal, "/thanks": views.thanks_modal, "/tyfcb": views.thanks_modal}
HOME_COMMANDS = ("/balance", "/referrals", "/leaderboard")
NAMELESS_CHANNELS = ("directmessage", "privategroup", "")


class SlackAdapter:
    """Translates Slack requests for the core and renders its answers."""

    def __init__(
        self,
        core: Core,
        people: People | None = None,
        on_recorded: Callable[[], None] | None = None,
    ) -> None:
        self.core = core
        self.people = people or People()
        self.on_recorded = on_recorded

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """The core's answer (committed by then); the outbox is told to look for work."""
        replies = await self.core.handle(incoming)
        if self.on_recorded is not None:
            self.on_recorded()
        if incoming.text.split(maxsplit=1)[:1] == ["/help"]:
            replies = [*replies, to_sender(inc.SLACK_NAMES_NOTE)]
        return replies

    def register(self, app: AsyncApp) -> None:
        app.command(re.compile(r"^/"))(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("message")(self.on_message)  # every message event is acked, most ignored
        app.action(re.compile(r"^cmd-"))(self.on_button)
        app.action(re.compile(r"^ask-"))(self.on_prompt_button)
        app.view("refer")(self.on_modal)
        app.view("thanks")(self.on_modal)
        app.view("amount")(self.on_modal)

    # ------------------------------------------------------------------ building an Incoming

    async def incoming(
        self,
        client: AsyncWebClient,
        chat: ChatRef,
        user_id: str,
        user_name: str | None,
        text: str,
        delivery_id: str,
    ) -> Incoming:
        team = chat.workspace_id or ""
        labels = inc.mentions(text)
        known = self.people.cached_sender_and_names(team, user_id, user_name, labels)
        if known is not None:  # everyone cached: no tasks to schedule
            return Incoming(chat, known[0], text, delivery_id, known[1])
        sender, mentioned = await asyncio.gather(
            self.people.sender(client, team, user_id, user_name),
            self.people.names(client, team, labels, skip=None),
        )
        return Incoming(chat, sender, text, delivery_id, mentioned)

    async def pressed(
        self, client: AsyncWebClient, chat: ChatRef, user: JsonDict, value: str, typed: str,
        delivery_id: str,
    ) -> Incoming:  # fmt: skip
        """A button's press: its data (`bot.buttons`, resolved in the group it names) with
        what was typed for it; an older button's value is its command line, as typed."""
        if not buttons.is_ours(value):
            line = f"{value} {typed}".strip()
            return await self.incoming(client, chat, user["id"], user.get("username"), line,
                                       delivery_id)  # fmt: skip
        found = await self.incoming(client, chat, user["id"], user.get("username"), typed,
                                    delivery_id)  # fmt: skip
        return replace(found, button=value)

    async def chat(
        self, client: AsyncWebClient, team_id: str, channel_id: str | None, title: str | None
    ) -> ChatRef:
        """The chat for a channel id; no channel (App Home, a modal from it): private."""
        if not channel_id:
            return ChatRef(Platform.SLACK, "home", team_id, is_private=True)
        if not channel_id.startswith("D") and (title or "") in NAMELESS_CHANNELS:
            title = await self.people.channel_name(client, team_id, channel_id)
        return inc.chat_ref(team_id, channel_id, title)

    # ------------------------------------------------------------------ slash commands

    async def on_command(self, ack: AsyncAck, command: JsonDict, client: AsyncWebClient) -> None:
        name, text = command["command"], command.get("text", "").strip()
        channel = command["channel_id"]
        if not text and name in MODALS:
            private_metadata = views.meta(channel, command.get("channel_name"))
            await client.views_open(
                trigger_id=command["trigger_id"], view=MODALS[name](private_metadata)
            )
            await ack()
            return
        chat = await self.chat(client, command["team_id"], channel, command.get("channel_name"))
        line = inc.command_text(name, text)
        incoming = await self.incoming(
            client, chat, command["user_id"], command.get("user_name"), line, command["trigger_id"]
        )
        replies = await self.handle(incoming)
        await ack(response_type="ephemeral", **render.message(replies, group_chat(chat)))

    # ------------------------------------------------------------------ events

    async def on_mention(
        self, event: JsonDict, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        team = body.get("team_id") or event.get("team") or ""
        chat = await self.chat(client, team, event["channel"], None)
        line = inc.mention_command(event.get("text", ""), context.bot_user_id)
        incoming = await self.incoming(client, chat, event["user"], None, line, body["event_id"])
        replies = await self.handle(incoming)
        extra = {"thread_ts": event["thread_ts"]} if event.get("thread_ts") else {}
        await client.chat_postEphemeral(
            channel=event["channel"], user=event["user"], **extra,
            **render.message(replies, group_chat(chat)),
        )  # fmt: skip

    async def on_message(
        self, event: JsonDict, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """A member's message in the bot's DM (its Messages tab): a command, the slash left
        out (`balance`) or not; answered in the DM. Edits, files and bots' posts: ignored."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if not event.get("user") or not (event.get("text") or "").strip():
            return
        team = body.get("team_id") or event.get("team") or ""
        chat = await self.chat(client, team, event["channel"], None)
        line = inc.direct_message_line(event["text"], context.bot_user_id)
        incoming = await self.incoming(client, chat, event["user"], None, line, body["event_id"])
        replies = await self.handle(incoming)
        extra = {"thread_ts": event["thread_ts"]} if event.get("thread_ts") else {}
        await client.chat_postMessage(channel=event["channel"], **extra, **render.message(replies))

    async def on_home_opened(self, event: JsonDict, body: JsonDict, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team = body.get("team_id") or ""
        await self.publish_home(client, team, event["user"], body["event_id"])

    async def publish_home(
        self,
        client: AsyncWebClient,
        team_id: str,
        user_id: str,
        delivery_id: str,
        notice: list[Reply] | None = None,
    ) -> None:
        """The member's balance, open referrals and the group's leaderboard, on App Home."""
        chat = ChatRef(Platform.SLACK, "home", team_id, is_private=True)
        parts = []
        for command in HOME_COMMANDS:
            delivery = f"{delivery_id}:home{command}"
            incoming = await self.incoming(client, chat, user_id, None, command, delivery)
            parts.append(await self.handle(incoming))
        await client.views_publish(user_id=user_id, view=views.home_view(parts, notice))

    # ------------------------------------------------------------------ buttons and modals

    async def on_button(
        self,
        ack: AsyncAck,
        body: JsonDict,
        action: JsonDict,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> None:
        team, user = body["team"]["id"], body["user"]
        chat = await self.chat(client, team, clicked_chat(body, action), None)
        incoming = await self.pressed(client, chat, user, action["value"], "", body["trigger_id"])
        replies = await self.handle(incoming)
        await ack()
        view = body.get("view") or {}
        if view.get("type") == "home":
            await self.publish_home(client, team, user["id"], body["trigger_id"], replies)
        elif view:
            await client.views_update(view_id=view["id"], view=views.result_modal(replies))
        elif respond is not None:
            message = render.message(replies, group_chat(chat))
            await respond(response_type="ephemeral", replace_original=False, **message)

    async def on_prompt_button(
        self, ack: AsyncAck, body: JsonDict, action: JsonDict, client: AsyncWebClient
    ) -> None:
        label = action.get("text", {}).get("text", "")
        private_metadata = views.meta(clicked_chat(body, action), command=action["value"])
        await client.views_open(
            trigger_id=body["trigger_id"], view=views.amount_modal(private_metadata, label)
        )
        await ack()

    async def on_modal(
        self, ack: AsyncAck, body: JsonDict, view: JsonDict, client: AsyncWebClient
    ) -> None:
        values = view["state"]["values"]
        remembered = json.loads(view.get("private_metadata") or "{}")
        callback = view["callback_id"]
        if callback == "refer":
            line = views.refer_command(values)
        elif callback == "thanks":
            if errors := views.thanks_field_errors(values):
                await ack(response_action="errors", errors=errors)  # nothing recorded
                return
            line = views.thanks_command(values)
        else:
            line = views.amount_command(remembered.get("cmd") or "", values)
        team, user = body["team"]["id"], body["user"]
        chat = await self.chat(client, team, remembered.get("chat"), remembered.get("title"))
        delivery = body.get("trigger_id") or f"{view['id']}:{view.get('hash', '')}"
        if callback == "amount":  # the amount typed for a prompting button
            typed = views.amount_command("", values)
            pressed = remembered.get("cmd") or ""
            incoming = await self.pressed(client, chat, user, pressed, typed, delivery)
        else:
            incoming = await self.incoming(
                client, chat, user["id"], user.get("username"), line, delivery
            )
        replies = await self.handle(incoming)
        await ack(response_action="update", view=views.result_modal(replies))


def group_chat(chat: ChatRef) -> str | None:
    """The group's channel that buttons in a message belong to (None in a private chat)."""
    return None if chat.is_private else chat.chat_id


def clicked_chat(body: JsonDict, action: JsonDict) -> str | None:
    """The group a button belongs to: named in its block id, else the message's channel."""
    named = str(action.get("block_id", "")).split(".", 1)[0]
    if named[:1] in ("C", "G"):
        return named
    container = body.get("container") or {}
    return container.get("channel_id") or (body.get("channel") or {}).get("id")


def create_app(
    settings: Settings,
    db: Database,
    core: Core,
    *,
    people: People | None = None,
    on_recorded: Callable[[], None] | None = None,
) -> AsyncApp:
    """The bolt app: one bot token, or the OAuth install flow when a client id is set.

    Every Web API client it builds (per workspace too) uses `settings.slack_api_url`.
    Every request over HTTP is verified against the signing secret; Socket Mode needs
    none (its envelopes come over the app's own WebSocket), and without one an HTTP
    request could never verify (a random secret nobody knows).
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret
    if secret is None and settings.slack_app_token is None:
        raise ValueError("SLACK_SIGNING_SECRET is needed in HTTP mode to verify Slack's requests")
    multi = bool(settings.slack_client_id and settings.slack_client_secret)
    app = AsyncApp(
        signing_secret=secret.get_secret_value() if secret else secrets.token_hex(32),
        client=AsyncWebClient(token=None if multi else token, base_url=settings.slack_api_url),
        process_before_response=True,
        oauth_settings=oauth.oauth_settings(settings, db) if multi else None,
        ssl_check_enabled=False,
    )
    if multi:
        app.enable_token_revocation_listeners()
    SlackAdapter(core, people, on_recorded).register(app)
    return app
