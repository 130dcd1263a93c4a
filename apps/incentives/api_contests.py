"""REST API of the contests part (API.md)."""

ROUTES: list = []
