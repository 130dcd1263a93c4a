"""`Authorization: Bearer <token>` for integrations (API.md "Discovery and auth").

The browser uses Django's session instead (SessionAuthentication, with CSRF on unsafe
methods); both are in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"], Bearer first so that an
anonymous API call is answered 401 with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from .selectors import token_for_secret
from .services import token_touch


class InvalidToken(AuthenticationFailed):
    """A bearer token that is unknown, malformed, expired, revoked, or whose user is inactive.

    (Defined here, not in `exceptions.py`: DRF imports authentication classes while importing
    `rest_framework.views`, which `exceptions.py` needs.)
    """

    default_detail = _("Invalid token.")


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticates as the token's user; `request.auth` is the `ApiToken`.

    A request without a Bearer header is left to the next authentication class. A Bearer
    header that does not name a usable token is a 401: it never falls back to the session.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise InvalidToken(_('Malformed Authorization header: expected "Bearer <token>".'))
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidToken() from None

        token = token_for_secret(raw)
        if token is None:
            raise InvalidToken()
        if token.revoked_at is not None:
            raise InvalidToken(_("This token has been revoked."))
        if token.is_expired():
            raise InvalidToken(_("This token has expired."))
        if not token.user.is_active:
            raise InvalidToken(_("The user of this token is inactive."))
        token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
