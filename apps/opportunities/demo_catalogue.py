"""Demo product catalogue for `manage.py seed_demo` (a B2B seller of industrial and office
equipment, consumables and services), and `create_approved_quote` for the demo pipeline.

Idempotent: a product whose code exists is left as it is; a deal that already has an approved
quote gets none more.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.accounts.models import User

from .choices import QuoteStatus
from .models import Opportunity, Product, Quote

# (code, name, unit, list price, product line)
CATALOGUE: list[tuple[str, str, str, str, str]] = [
    ("IE-CNC-850", "立式加工中心 VMC850", "台", "368000.00", "工业设备"),
    ("IE-CNC-1060", "立式加工中心 VMC1060", "台", "458000.00", "工业设备"),
    ("IE-LTH-400", "数控车床 CK6140", "台", "126000.00", "工业设备"),
    ("IE-AIR-37", "螺杆空压机 37kW", "台", "58600.00", "工业设备"),
    ("IE-AIR-DRY", "冷冻式干燥机 6m³", "台", "9800.00", "工业设备"),
    ("IE-FLT-3T", "电动叉车 3吨", "台", "145000.00", "物流设备"),
    ("IE-RCK-HD", "重型货架（单元）", "套", "3200.00", "物流设备"),
    ("IE-AGV-500", "潜伏式AGV 500kg", "台", "88000.00", "物流设备"),
    ("IE-LSR-3K", "光纤激光切割机 3kW", "台", "298000.00", "工业设备"),
    ("IE-WLD-ROB", "焊接机器人工作站", "套", "235000.00", "自动化"),
    ("IE-PLC-S7", "PLC 控制柜（含编程）", "套", "46000.00", "自动化"),
    ("IE-HMI-10", "10寸触摸屏 HMI", "件", "2680.00", "自动化"),
    ("OE-MFP-A3", "A3 彩色数码复合机", "台", "32800.00", "办公设备"),
    ("OE-PRN-A4", "A4 黑白激光打印机", "台", "2180.00", "办公设备"),
    ("OE-PRJ-LS", "激光工程投影机 6000流明", "台", "26500.00", "办公设备"),
    ("OE-IFP-86", "86寸会议平板", "台", "21800.00", "办公设备"),
    ("OE-SHR-5", "碎纸机（5级保密）", "台", "3600.00", "办公设备"),
    ("CS-TNR-A3", "复合机原装碳粉（黑）", "件", "680.00", "耗材"),
    ("CS-TNR-CLR", "复合机原装碳粉（彩色套装）", "套", "2350.00", "耗材"),
    ("CS-FLT-AIR", "空压机保养滤芯套件", "套", "1280.00", "耗材"),
    ("CS-OIL-46", "46号抗磨液压油 200L", "件", "2960.00", "耗材"),
    ("CS-CUT-SET", "硬质合金刀具套装", "套", "4200.00", "耗材"),
    ("CS-WIRE-1.2", "气保焊丝 1.2mm 15kg", "件", "138.00", "耗材"),
    ("SV-INST", "设备安装调试服务", "次", "8000.00", "服务"),
    ("SV-TRN-2D", "操作与维护培训（2天）", "次", "6000.00", "服务"),
    ("SV-MNT-Y", "年度维保合同", "年", "36000.00", "服务"),
    ("SV-MNT-OFF", "办公设备全保服务", "年", "4800.00", "服务"),
    ("SV-EXT-WTY", "延长保修（每年）", "年", "12000.00", "服务"),
    ("SV-RMT-MON", "设备远程监控平台订阅", "年", "9600.00", "服务"),
    ("SV-SPARE", "备件包（按设备）", "套", "15000.00", "服务"),
]


@transaction.atomic
def load(stdout: Any = None) -> int:
    """Create the demo products that do not exist yet; returns how many were created."""
    existing = set(Product.objects.values_list("code", flat=True))
    new = [
        Product(
            code=code,
            name=name,
            unit=unit,
            list_price=Decimal(price),
            product_line=line,
            external_id=f"ERP-{code}",
        )
        for code, name, unit, price, line in CATALOGUE
        if code not in existing
    ]
    Product.objects.bulk_create(new)
    if stdout is not None:
        stdout.write(f"products: {len(new)} created, {len(CATALOGUE) - len(new)} existed")
    return len(new)


def create_approved_quote(opportunity: Opportunity, by: User | None = None) -> Quote | None:
    """Give a demo deal an approved quote (so that it may be in negotiation or won): two to
    four catalogue lines with small discounts, submitted by the deal's owner through the real
    approval chain, and approved by each approver in turn. Returns the quote (or the one the
    deal already had); None when the catalogue is empty or a step has no approver."""
    from apps.approvals.choices import RequestStatus, TaskStatus
    from apps.approvals.models import ApprovalTask
    from apps.approvals.services import approval_approve

    from .quotes import quote_create, quote_submit

    existing = opportunity.quotes.filter(status=QuoteStatus.APPROVED).first()
    if existing is not None:
        return existing
    products = list(Product.objects.filter(is_active=True).order_by("code"))
    if not products:
        return None
    rng = random.Random(opportunity.pk)
    owner = opportunity.owner
    picked = rng.sample(products, k=min(len(products), rng.randint(2, 4)))
    lines = [
        {
            "product": product.pk,
            "quantity": str(rng.choice([1, 1, 2, 3, 5, 10])),
            "discount_pct": str(rng.choice([0, 0, 3, 5, 8, 12])),
        }
        for product in picked
    ]
    with transaction.atomic():
        draft = opportunity.quotes.filter(status=QuoteStatus.DRAFT).order_by("-version").first()
        quote = draft or quote_create(opportunity=opportunity, by=by or owner, lines=lines)
        if not quote.lines.exists():
            from .quotes import quote_update

            quote = quote_update(quote=quote, by=owner, lines=lines)
        quote = quote_submit(quote=quote, by=owner)
        from apps.approvals.services import approval_request_for

        for _step in range(5):  # each step's approver agrees in turn
            request = approval_request_for(quote)
            if request is None or request.status != RequestStatus.PENDING:
                break
            task = (
                ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING)
                .select_related("approver")
                .first()
            )
            if task is None:
                break
            approval_approve(request=request, by=task.approver, comment="")
        quote = Quote.objects.get(pk=quote.pk)
    return quote if quote.status == QuoteStatus.APPROVED else None
