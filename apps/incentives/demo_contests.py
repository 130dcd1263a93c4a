"""Demo data: demo_contests (to be written)."""


def load(stdout) -> None:
    return None
