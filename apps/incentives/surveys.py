"""surveys (see the issue)."""
