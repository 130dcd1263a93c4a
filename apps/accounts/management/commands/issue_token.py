"""`manage.py issue_token USERNAME [--days N] [--name NAME]`: issue an API token.

The raw token is printed alone on the last line, so a script can take it with `tail -n 1`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.api.services import token_issue


class Command(BaseCommand):
    help = "Issue an API bearer token for a user and print it (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument(
            "--days",
            type=int,
            default=settings.API_TOKEN_DEFAULT_DAYS,
            help="Validity in days (default %(default)s); 0 for a token that never expires.",
        )
        parser.add_argument(
            "--name", default="", help="What the token is for (default: 'issued by manage.py')."
        )

    def handle(self, *args: Any, username: str, days: int, name: str, **options: Any) -> None:
        if days < 0:
            raise CommandError("--days must be 0 (never expires) or more.")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            token, raw = token_issue(
                user=user, name=name or "issued by manage.py", days=days or None
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        expires = token.expires_at.isoformat() if token.expires_at else "never"
        self.stdout.write(
            f"Token {token.prefix}… '{token.name}' for {user.username} (expires: {expires}). "
            "It is shown only once:"
        )
        self.stdout.write(raw)
