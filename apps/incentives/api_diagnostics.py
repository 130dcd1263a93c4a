"""REST API of the diagnostics part (API.md)."""

ROUTES: list = []
