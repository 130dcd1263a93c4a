"""Scale data: scale_surveys (to be written)."""


def load(ctx) -> None:
    return None
