"""Demo data: demo_commissions (to be written)."""


def load(stdout) -> None:
    return None
