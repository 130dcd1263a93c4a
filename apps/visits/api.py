"""REST API routes of this module (registered by apps/api/urls.py)."""

ROUTES: list = []
