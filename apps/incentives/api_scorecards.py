"""REST API of the scorecards part (API.md)."""

ROUTES: list = []
