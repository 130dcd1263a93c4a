"""Scale data: scale_commissions (to be written)."""


def load(ctx) -> None:
    return None
