"""`python -m app` is the `referral-bot` command."""

from app.cli import main

main()
