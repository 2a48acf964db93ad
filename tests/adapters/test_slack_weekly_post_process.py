"""Real time, a real process, on Slack: a weekly leaderboard set a few seconds ahead is
uploaded to the channel once (files upload v2, its chart a PNG with the members' names);
the process killed (-9) after a first attempt failed, and started again, delivers it, still
once. The Telegram side of this is tests/adapters/test_weekly_post_process.py."""

# ruff: noqa: F811  (the fixture `slack` is imported from slack_harness)

from __future__ import annotations

import asyncio
import io
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.adapters.bot_process import bot_env, free_port, healthy, start_bot
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import MARKS, TOKEN, slack  # noqa: F401
from tests.adapters.slack_requests import SIGNING_SECRET, slash_command
from tests.adapters.test_weekly_post_process import set_leaderboard, wait_until

pytestmark = MARKS


def completions(slack: FakeSlack) -> list[dict[str, object]]:
    """Every call that shared an upload into a channel (the first one failed, on purpose)."""
    return [c.args for c in slack.calls_to("files.completeUploadExternal")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_a_leaderboard_is_uploaded_once_across_kill_9(
    slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(tmp_path, port, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                  SLACK_API_URL=slack.base_url, SCHEDULER_TICK_SECONDS="1")  # fmt: skip
    process = await start_bot(tmp_path, env)
    try:
        assert await healthy(port, process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for command, words in (("/joingroup", "Plumber"),
                                   ("/refer", "<@U2|bob> ACME, 555-1234, roof hot"),
                                   ("/meeting", "set monday 07:00")):  # fmt: skip
                request = slash_command(command, words)
                answer = await http.post("/slack/events", content=request.body,
                                         headers=request.headers)  # fmt: skip
                assert answer.status_code == 200
        await slack.wait_for("chat.postMessage", 2, timeout=20)
        process.send_signal(signal.SIGTERM)  # (SQLite: one writer; the test writes next)
        await asyncio.wait_for(process.wait(), 30)

        slack.fail("files.completeUploadExternal", status=500)  # the first attempt fails
        await set_leaderboard(tmp_path / "bot.db", datetime.now(UTC) + timedelta(seconds=6))
        process = await start_bot(tmp_path, env)
        await slack.wait_for("files.completeUploadExternal", 1, timeout=30)
        process.send_signal(signal.SIGKILL)  # before the retry: the post is in the outbox
        await process.wait()
        assert len(completions(slack)) == 1  # the one that failed

        process = await start_bot(tmp_path, env)
        # the outbox retries after the lease of the killed process (60 s) at the latest
        assert await wait_until(lambda: len(completions(slack)) >= 2, 90)
        await asyncio.sleep(3)  # a few more ticks: nothing claimed or sent again
    finally:
        if process.returncode is None:
            process.kill()
        _, stderr = await process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-3000:]

    [_failed, post] = completions(slack)  # once: a few more ticks sent nothing again
    assert post["channel_id"] == "C1"
    assert "Weekly leaderboard" in str(post["initial_comment"])
    assert "ACME" not in str(post["initial_comment"])  # the prospect stays private
    [file] = post["files"]  # type: ignore[misc]
    png = slack.uploads[file["id"]]
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 600
    assert image.text["Description"] == "Alice: 1 this week, 1 this quarter"  # type: ignore[attr-defined]
