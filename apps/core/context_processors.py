"""Template context shared by every page of the shell."""

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict:
    from .navigation import nav_for

    user = getattr(request, "user", None)
    return {
        "nav_items": nav_for(user, request.path) if user and user.is_authenticated else [],
        "currency": settings.CURRENCY,
    }
