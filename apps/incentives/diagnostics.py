"""diagnostics (see the issue)."""
