"""REST API: reviews, registered by apps/api/urls.py (ROUTE_MODULES)."""

ROUTES: list = []
