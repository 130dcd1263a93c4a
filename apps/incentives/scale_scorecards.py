"""Scale data of the scorecards (`manage.py seed_scale`): the demo's two monthly scoring schemes
(reps and supervisors), created through the service as the scale administrator. Idempotent:
an active scheme of the same role and period is kept. The scorecards themselves are the
benchmark's to compute (bench/incentives_scorecards.py)."""

from __future__ import annotations

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.core.scale import ScaleContext

from .demo_scorecards import ensure_schemes


def load(ctx: ScaleContext) -> None:
    admin = (
        User.objects.filter(role=Role.ADMIN, is_active=True).order_by("-is_superuser", "pk").first()
    )
    if admin is None:
        ctx.log("  no administrator: no scoring scheme")
        return
    schemes = ensure_schemes(admin)
    ctx.ids["incentives.schemes"] = [s.pk for s in schemes]
    ctx.log(f"  scoring schemes: {', '.join(s.name for s in schemes)}")
