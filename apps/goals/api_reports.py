"""REST API: reports, registered by apps/api/urls.py (ROUTE_MODULES)."""

ROUTES: list = []
