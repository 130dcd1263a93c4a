"""Scale data: scale_scorecards (to be written)."""


def load(ctx) -> None:
    return None
