"""Demo data: demo_scorecards (to be written)."""


def load(stdout) -> None:
    return None
