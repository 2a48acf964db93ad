"""`/refer` updates posted to the Telegram webhook: the full adapter next to a bare
python-telegram-bot `Application`.

    python -m bench.bench_telegram [--requests 2000] [--rounds 5] [--warmup 300]
                                   [--concurrency 1 50] [--json PATH]

Each app runs in its own process on uvicorn (127.0.0.1, port 0) behind a Starlette route
at `/telegram/webhook`, started the way `referral-bot` starts:

- `bare`: an `Application` whose handler does nothing; the route parses the update and
  answers 200 after `process_update` (python-telegram-bot at its fastest);
- `referral-bot`: the real adapter and core on a fresh SQLite file, the secret checked,
  the referral, its outbox rows (the sender's answer among them: a Telegram group has no
  private answer in place) and the delivery id committed, then 200 with no Bot API call
  on the way (the outbox loop does not run; the `/refer` message's deletion is left
  running after the answer, as in production).

The Bot API is FakeTelegram in this process. Every update is a distinct `/refer` in one of
five groups from one of twenty members who joined during the warm-up. It measures, it
never asserts; results in bench/results/telegram.json.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bench import http_load
from tests.adapters.fake_telegram import FakeTelegram
from tests.adapters.telegram_updates import Person, command

RESULTS = Path(__file__).with_name("results") / "telegram.json"
SECRET = "bench-secret"
GROUPS = [-1001000000000 - n for n in range(5)]
USERS = [Person(1000 + n, f"User{n}", f"user_{n:02d}") for n in range(20)]
HEADERS = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}


def serve(kind: str, api_url: str, database_url: str, ports: Any) -> None:
    """The server process: build the app and run uvicorn on port 0, reporting the port."""
    import os

    os.environ.setdefault("PTB_TIMEDELTA", "true")
    http_load.pin(http_load.SERVER_CPU)
    asyncio.run(_serve(kind, api_url, database_url, ports))


async def _serve(kind: str, api_url: str, database_url: str, ports: Any) -> None:
    import logging

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from app.serve import freeze_startup_objects

    logging.basicConfig(level=logging.WARNING)
    token = FakeTelegram().token
    if kind == "bare":
        from telegram import Update
        from telegram.ext import Application, MessageHandler, filters

        application = Application.builder().token(token).base_url(api_url).updater(None).build()

        async def nothing(update: Update, context: Any) -> None:
            return None

        application.add_handler(MessageHandler(filters.ALL, nothing))
        await application.initialize()

        async def webhook(request: Request) -> Response:
            update = Update.de_json(await request.json(), application.bot)
            await application.process_update(update)
            return Response(status_code=200)

        asgi = Starlette(routes=[Route("/telegram/webhook", webhook, methods=["POST"])])
    else:
        from telegram import Update

        from adapters.http import create_http_app
        from app.wiring import add_platforms, build
        from bot.settings import Settings

        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=database_url, telegram_bot_token=token,
            telegram_api_url=api_url, telegram_webhook_url="https://bench.example/telegram/webhook",
            telegram_webhook_secret=SECRET,
        )  # fmt: skip
        runtime = await build(settings)
        add_platforms(runtime)
        (platform,) = runtime.platforms
        await platform.start()
        for group in GROUPS:  # every member joins every group first
            for n, user in enumerate(USERS):
                body, _ = _update(user, f"/join Trade {n}", group)
                await platform.application.process_update(  # type: ignore[attr-defined]
                    Update.de_json(json.loads(body), platform.application.bot)  # type: ignore[attr-defined]
                )
        asgi = create_http_app(runtime.db, platform.routes)
    config = uvicorn.Config(asgi, host="127.0.0.1", port=0, lifespan="off",
                            log_level="warning", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    freeze_startup_objects()
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    ports.put(server.servers[0].sockets[0].getsockname()[1])
    await task


def _update(sender: Person, text: str, group: int) -> http_load.Request:
    update = command(sender, text, chat_id=group, title=f"Chapter {group}")
    return json.dumps(update).encode(), HEADERS


def requests(count: int, offset: int) -> list[http_load.Request]:
    """`count` distinct `/refer` updates, spread over the groups and members."""
    out = []
    for i in range(offset, offset + count):
        giver = (i // len(GROUPS)) % len(USERS)
        receiver = USERS[(giver + 1 + i % 7) % len(USERS)]
        text = f"/refer @{receiver.username} Prospect {i}, 555-{i:05d}, a new roof hot"
        out.append(_update(USERS[giver], text, GROUPS[i % len(GROUPS)]))
    return out


BENCH = http_load.Bench("telegram /refer updates to the webhook (uvicorn)", "/telegram/webhook",
                        ("bare", "referral-bot"), serve, requests)  # fmt: skip


async def main(args: Any) -> dict[str, Any]:
    http_load.pin(http_load.CLIENT_CPU)
    async with FakeTelegram() as telegram:
        results = await http_load.measure(BENCH, telegram.base_url, args)
    return http_load.report(BENCH, results, args, database="sqlite (fresh file)")


if __name__ == "__main__":
    asyncio.run(main(http_load.arguments(__doc__.splitlines()[0], RESULTS)))
