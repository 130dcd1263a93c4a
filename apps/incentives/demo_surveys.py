"""Demo data: demo_surveys (to be written)."""


def load(stdout) -> None:
    return None
