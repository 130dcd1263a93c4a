"""Demo competitors for `manage.py seed_demo` (after the opportunities and visits demos): the
machine-tool makers the demo's lost deals name (`apps.opportunities.demo.COMPETITORS`) and
those of the scale data, each with the short and English names reps write, so that the
competitor analysis groups the demo's lost deals under them. Added through the registry's
service as an administrator would. Idempotent: a competitor whose name exists is left as it
is (an administrator may have edited it)."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.choices import Role
from apps.accounts.models import User

from .competitors import competitor_create
from .models import Competitor

# (name, aliases, notes)
COMPETITORS = [
    ("德马吉森精机", ["DMG MORI", "德马吉", "森精机"], "德日合资高端数控机床，五轴加工中心强。"),
    ("大隈", ["Okuma", "大隈机械"], "日系数控车床与加工中心，价格偏高，交期较长。"),
    ("海天精工", ["海天", "Haitian Precision"], "国产龙门加工中心，价格低，常以低价竞标。"),
    ("沈阳机床", ["沈机", "SMTCL"], "国产老牌，覆盖中低端市场，售后网点多。"),
    ("牧野", ["Makino"], "日系高精度加工中心，模具行业口碑好。"),
    ("通快", ["TRUMPF"], "德系激光切割与钣金设备。"),
    ("大族激光", ["大族", "Han's Laser"], "国产激光设备龙头，常提供免费试用。"),
]


@transaction.atomic
def load(stdout=None) -> int:
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("username").first()
    if admin is None:
        return 0
    existing = set(Competitor.objects.values_list("name", flat=True))
    created = 0
    for name, aliases, notes in COMPETITORS:
        if name in existing:
            continue
        competitor_create(by=admin, name=name, aliases=aliases, notes=notes)
        created += 1
    if stdout is not None:
        stdout.write(f"  competitors: {created} added")
    return created
