"""Benchmark of the lead import (issue 4 "Figures": a 10,000-row import under 60 s).

Generates a 10,000-row .xlsx of realistic Chinese prospects (company names, mobile numbers,
some e-mails and valid unified social credit codes, regions, ~3% duplicates inside the file),
then, against the development database and inside a transaction that is rolled back at the end:
the preview (read + validate + dedupe), the import (all or nothing, bulk path of
apps/leads/importing.py), and, for comparison, 300 single `lead_capture` calls extrapolated to
10,000.

    .venv/bin/python bench/leads_import.py [--rows 10000] [--seed 4]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from apps.accounts.choices import OrgUnitKind, Role  # noqa: E402
from apps.accounts.models import OrgUnit, User  # noqa: E402
from apps.customers.normalization import uscc_check_char  # noqa: E402
from apps.leads import importing  # noqa: E402
from apps.leads.choices import LeadSource  # noqa: E402
from apps.leads.models import Lead, Territory  # noqa: E402
from apps.leads.services import lead_capture  # noqa: E402

REGIONS = ["上海", "北京", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "天津"]
WORDS = [
    "华",
    "盛",
    "鑫",
    "泰",
    "瑞",
    "恒",
    "达",
    "隆",
    "兴",
    "昌",
    "宏",
    "远",
    "新",
    "创",
    "联",
    "博",
    "海",
    "天",
    "金",
    "安",
    "嘉",
    "德",
    "信",
    "诚",
    "中",
    "宇",
    "辰",
    "星",
    "明",
    "开",
]
TRADES = [
    ("科技", "软件和信息技术服务业"),
    ("电子", "电子设备制造"),
    ("机械", "通用设备制造"),
    ("贸易", "批发业"),
    ("新材料", "化学原料和化学制品制造"),
    ("医疗器械", "医疗器械"),
    ("物流", "交通运输"),
    ("食品", "食品制造"),
    ("建设工程", "建筑业"),
    ("环保", "生态保护和环境治理"),
]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "勇", "军", "杰", "涛", "明", "超", "霞"]
HEADER = [
    "公司名称",
    "联系人",
    "电话",
    "邮箱",
    "统一社会信用代码",
    "地区",
    "行业",
    "企业规模",
    "意向",
]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(rng: random.Random) -> str:
    first = (
        "91" + f"{rng.randint(110000, 659999)}" + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    )
    return first + uscc_check_char(first)


def company(rng: random.Random, n: int) -> tuple[str, str, str]:
    region = rng.choice(REGIONS)
    trade, industry = rng.choice(TRADES)
    brand = (
        "".join(rng.sample(WORDS, 2)) + f"{n:05d}"[-2:]
        if n % 7 == 0
        else "".join(rng.sample(WORDS, 3))
    )
    return f"{region}{brand}{trade}{rng.choice(SUFFIXES)}", region, industry


def make_rows(count: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < count:
        n = len(rows)
        if rows and rng.random() < 0.03:  # the same company listed twice
            dup = list(rng.choice(rows))
            dup[2] = (
                f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
            )
            rows.append(dup)
            continue
        name, region, industry = company(rng, n)
        if name in seen:
            continue
        seen.add(name)
        phone = f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
        email = (
            f"sales{n}@{rng.choice(['163.com', 'qq.com', 'example.cn'])}"
            if rng.random() < 0.4
            else ""
        )
        code = uscc(rng) if rng.random() < 0.5 else ""
        contact = (
            rng.choice(SURNAMES)
            + rng.choice(GIVEN)
            + (rng.choice(GIVEN) if rng.random() < 0.5 else "")
        )
        size = rng.choice(["micro", "small", "medium", "large", "enterprise", ""])
        intent = rng.choice(["高", "中", "低", ""])
        rows.append([name, contact, phone, email, code, region, industry, size, intent])
    return rows


def write_xlsx(rows: list[list[str]], path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("leads")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


class Rollback(Exception):
    pass


def setup_org() -> User:
    """An importer and a sales org for the regions (created inside the rolled-back transaction
    when the development database has none)."""
    company = OrgUnit.objects.create(code="bench-co", name="Bench", kind=OrgUnitKind.COMPANY)
    admin = User.objects.create(username="bench-admin", role=Role.ADMIN, org_unit=company)
    for i, region in enumerate(REGIONS):
        team = OrgUnit.objects.create(code=f"bench-t{i}", name=f"Bench {region}", parent=company)
        for r in range(4):
            User.objects.create(username=f"bench-rep{i}-{r}", role=Role.REP, org_unit=team)
        Territory.objects.update_or_create(
            region=region, defaults={"team": team, "is_active": True}
        )
    return admin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--single", type=int, default=300, help="single captures to compare")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leads.xlsx"
        t0 = time.perf_counter()
        write_xlsx(make_rows(args.rows, args.seed), path)
        size = path.stat().st_size / 1024
        print(f"generated {args.rows} rows ({size:.0f} KiB) in {time.perf_counter() - t0:.2f} s")
        stored = importing.StoredImport(
            token="bench", path=path, name=path.name, channel="bench", user_id=0
        )
        before = Lead.objects.count()
        try:
            with transaction.atomic():
                admin = setup_org()
                t0 = time.perf_counter()
                plan = importing.import_preview(stored=stored)
                t_preview = time.perf_counter() - t0
                print(
                    f"preview: {t_preview:.2f} s — new {plan.new_count}, duplicate "
                    f"{plan.duplicate_count}, invalid {plan.invalid_count}"
                )
                t0 = time.perf_counter()
                result = importing.lead_import(stored=stored, by=admin)
                t_import = time.perf_counter() - t0
                print(
                    f"import (all or nothing, bulk): {t_import:.2f} s — created {result.created}, "
                    f"touches {result.duplicates}, assigned {result.assigned}"
                )
                rows = make_rows(args.single, args.seed + 1)
                t0 = time.perf_counter()
                for row in rows:
                    data = dict(
                        zip(
                            [
                                "company_name",
                                "contact_name",
                                "phone",
                                "email",
                                "credit_code",
                                "region",
                                "industry",
                            ],
                            row,
                            strict=False,
                        )
                    )
                    data["company_name"] = "单条" + data["company_name"]
                    lead_capture(data=data, source=LeadSource.IMPORT, channel="bench")
                t_single = time.perf_counter() - t0
                print(
                    f"row by row (lead_capture): {args.single} rows in {t_single:.2f} s → "
                    f"~{t_single / args.single * args.rows:.0f} s for {args.rows}"
                )
                raise Rollback
        except Rollback:
            pass
        assert Lead.objects.count() == before, "the benchmark must leave the database unchanged"
        print("rolled back; database unchanged")


if __name__ == "__main__":
    main()
