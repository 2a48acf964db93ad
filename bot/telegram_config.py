"""Which Telegram webhook settings go together, and the one line that says what is wrong.

Webhook mode needs an https URL (Telegram calls no other) and a secret that Telegram
sends back in every request (`X-Telegram-Bot-Api-Secret-Token`), of 1 to 256 of
A-Z a-z 0-9 _ -, the characters `setWebhook` accepts. A webhook without a secret would
take updates from anyone who finds the URL: refused at start-up, never run weaker.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HINT = "e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def telegram_problem(url: str | None, secret: str | None) -> str | None:
    """What is wrong with TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET, or None (never
    quoting the secret)."""
    if url is None:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        return (
            "TELEGRAM_WEBHOOK_URL must be an https:// address that Telegram can reach, e.g. "
            "https://bot.example.org/telegram/webhook (Telegram sends webhooks over https "
            "only; leave it unset for long polling)"
        )
    if secret is None:
        return (
            "TELEGRAM_WEBHOOK_URL is set without TELEGRAM_WEBHOOK_SECRET: the webhook would "
            f"take updates from anyone; set a secret of 1 to 256 of A-Z a-z 0-9 _ -, {SECRET_HINT}"
        )
    if not SECRET_FORM.fullmatch(secret):
        return (
            f"TELEGRAM_WEBHOOK_SECRET must be 1 to 256 of A-Z a-z 0-9 _ - (it has "
            f"{len(secret)} characters, or others); {SECRET_HINT}"
        )
    return None
