"""Demo data: demo_diagnostics (to be written)."""


def load(stdout) -> None:
    return None
