"""REST API of the commissions part (API.md)."""

ROUTES: list = []
