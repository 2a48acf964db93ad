"""The composition root: builds storage, the core, the platform adapters and the outbox
from one `Settings`. Nothing imports this package but the `referral-bot` entry point
(and tests, which call its builders with their own settings)."""
