"""REST API of the surveys part (API.md)."""

ROUTES: list = []
