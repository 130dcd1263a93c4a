"""contests (see the issue)."""
