"""Scale data (issue 4 "Figures"): what `manage.py seed_scale` hands to each app's loader.

Each app that has data to load at scale ships ``apps/<app>/scale.py`` with a function
``load(ctx: ScaleContext) -> None`` and, when it needs another app's rows first, a tuple
``REQUIRES = ("accounts", …)`` of app labels. The command runs the loaders in that dependency
order (accounts → customers → leads; later issues add opportunities, visits, contracts …).

A loader draws every value from ``ctx.rng(name)`` (seeded from ``--seed`` and the name), so
the same seed and the same ``ctx.now`` give the same rows; it reserves its ids up front with
``ctx.reserve_ids`` (so rows can reference each other before they exist: Django's foreign keys
are ``DEFERRABLE INITIALLY DEFERRED``) and writes them with ``ctx.copy`` — ``COPY … FROM
STDIN`` through psycopg 3, with the model's history triggers skipped (the load is marked once,
by a pghistory context row, instead of a million insert events).

This module also holds the vocabulary of realistic Chinese data shared by the loaders and the
benchmarks (cities and their sales regions, company names, people, phones, credit codes).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import pgtrigger
from django.db import connection, models
from psycopg import sql

from apps.customers.normalization import uscc_check_char

# --- the context --------------------------------------------------------------------------


@dataclass
class ScaleContext:
    """What a loader gets: the seed, the sizes, the reference time, what earlier loaders
    created (``ids``), and the COPY helper."""

    seed: int
    sizes: dict[str, int]
    now: datetime
    stdout: TextIO | None = None
    # Ids created by earlier loaders, by name: "users.rep", "units.team", "customers" …
    ids: dict[str, list[int]] = field(default_factory=dict)
    # Free-form facts a later loader needs (e.g. the team and region of each rep).
    facts: dict[str, Any] = field(default_factory=dict)
    # Rows written per table, for the summary.
    counts: dict[str, int] = field(default_factory=dict)
    # Bulk tables whose secondary indexes are rebuilt after the COPY (see `copy`).
    rebuild_indexes_over: int = 50_000

    def rng(self, name: str) -> random.Random:
        """A generator of its own per loader/purpose, so that adding draws in one loader does
        not shift every value of the next one."""
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def log(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        """`count` consecutive ids from the table's sequence, reserved at once (one
        ``setval``), so that the loader can reference rows before they are copied."""
        if count <= 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            start = cursor.fetchone()[0]
            cursor.execute("SELECT setval(%s, %s)", [sequence, start + count - 1])
        return list(range(start, start + count))

    def copy(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        expected: int = 0,
    ) -> int:
        """``COPY table (columns) FROM STDIN`` of `rows`; returns how many were written.

        The model's pghistory insert trigger is skipped (``pgtrigger.ignore`` sets a
        transaction-local variable, so the load must run in a transaction). Into a big table
        (`expected` ≥ ``rebuild_indexes_over`` rows) the secondary indexes are dropped first and
        built again after the COPY, from their own definitions: one sort per index instead
        of a million random index inserts (a trigram GIN above all). Unique and constraint
        indexes stay, so the data is still checked as it arrives.
        """
        table = model._meta.db_table
        started = time.perf_counter()
        bulk = expected >= self.rebuild_indexes_over
        dropped = self._drop_secondary_indexes(table) if bulk else []
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        # A model without history has no insert trigger to skip (`registered` raises then).
        trigger = f"{model._meta.label}:insert_insert"
        try:
            uris = [trigger] if pgtrigger.registered(trigger) else []
        except KeyError:
            uris = []
        written = 0
        with pgtrigger.ignore(*uris), connection.cursor() as cursor:
            # The ignore list reaches Postgres with the next statement run through Django
            # (a transaction-local setting), which the COPY below then sees too.
            cursor.execute("SELECT 1")
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        copy_done = time.perf_counter()
        if dropped:
            with connection.cursor() as cursor:
                # An index cannot be built over rows with pending (deferred) foreign-key
                # checks: run them now, then defer again for the next loader.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for definition in dropped:
                    cursor.execute(definition)
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        with connection.cursor() as cursor:
            # Fresh statistics: the loaders after this one query the table (a correlated
            # subquery planned on an empty table's estimates scans it once per outer row).
            cursor.execute(f"ANALYZE {table}")
        self.counts[table] = self.counts.get(table, 0) + written
        rebuilt = f", {len(dropped)} indexes rebuilt in {time.perf_counter() - copy_done:.1f} s"
        self.log(
            f"  {table}: {written:,} rows copied in {copy_done - started:.1f} s"
            + (rebuilt if dropped else "")
        )
        return written

    @staticmethod
    def _drop_secondary_indexes(table: str) -> list[str]:
        """Drop the table's indexes that neither back a constraint nor are unique; return
        their ``CREATE INDEX`` statements."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                  FROM pg_index i
                 WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                """,
                [table],
            )
            found = cursor.fetchall()
            for name, _definition in found:
                cursor.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
        return [definition for _name, definition in found]


# --- realistic Chinese data -----------------------------------------------------------------

# Sales regions (大区) and their cities; a team covers a city, which is the lead/customer
# `region` its territory routes on.
REGIONS: dict[str, list[str]] = {
    "华南大区": ["深圳", "广州", "东莞", "佛山", "珠海", "厦门", "福州", "南宁"],
    "华东大区": ["上海", "杭州", "苏州", "南京", "宁波", "无锡", "合肥", "济南"],
    "华北大区": ["北京", "天津", "石家庄", "太原", "青岛", "大连", "沈阳", "哈尔滨"],
    "华中大区": ["武汉", "长沙", "郑州", "南昌", "襄阳", "宜昌", "洛阳", "株洲"],
    "西南大区": ["成都", "重庆", "昆明", "贵阳", "西安", "兰州", "乌鲁木齐", "绵阳"],
}
CITIES = [city for cities in REGIONS.values() for city in cities]
# Division codes (行政区划代码) used in credit codes, one per city, stable.
CITY_CODES = {city: 110000 + 1000 * i + 100 for i, city in enumerate(CITIES)}
DISTRICTS = [
    "高新区",
    "经济开发区",
    "南山区",
    "天河区",
    "浦东新区",
    "西湖区",
    "工业园区",
    "滨海新区",
]
STREETS = ["科技路", "创业大道", "人民路", "解放路", "建设路", "中山路", "工业大道", "长江路"]
# Two-character brand syllables: ~60 characters give ~3,500 brands (no repeated character).
BRAND_CHARS = "".join(
    dict.fromkeys(
        "华盛鑫泰瑞恒达隆兴昌宏远新创联博海天金安嘉德信诚中宇辰星明开源通力美佳和富"
        "丰汇永立正长顺光腾飞翔宝利康健荣耀锦程万邦凯"
    )
)
TRADES: list[tuple[str, str]] = [
    ("电子", "制造业"), ("精密机械", "制造业"), ("五金制品", "制造业"), ("汽车零部件", "制造业"),
    ("新材料", "化工材料"), ("化工", "化工材料"), ("医疗器械", "医疗"), ("生物科技", "医疗"),
    ("贸易", "批发零售"), ("商贸", "批发零售"), ("供应链", "物流运输"), ("物流", "物流运输"),
    ("食品", "食品饮料"), ("饮料", "食品饮料"), ("信息技术", "软件和信息技术服务业"),
    ("软件", "软件和信息技术服务业"), ("建设工程", "建筑业"), ("建材", "建筑业"),
    ("服饰", "纺织服装"), ("家居", "家居用品"),
]  # fmt: skip
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "科技有限公司", "集团有限公司"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀英", "建华", "志强", "晓东", "丽娟", "海燕", "国平", "春梅", "文博", "子涵", "浩然",
    "欣怡", "宇轩", "梓萱", "俊杰", "佳琪", "思远", "雨桐", "建国", "桂英", "玉兰",
]  # fmt: skip
TITLES = [
    "总经理",
    "采购经理",
    "财务总监",
    "技术总监",
    "采购专员",
    "副总经理",
    "生产经理",
    "行政主管",
]
MAIL_DOMAINS = ["163.com", "qq.com", "126.com", "sina.com", "aliyun.com", "foxmail.com"]
MOBILE_PREFIXES = ["135", "136", "137", "138", "139", "150", "151", "158", "182", "186", "188",
                   "130", "131", "132", "155", "156", "185", "133", "153", "177", "180", "189",
                   "199", "166"]  # fmt: skip
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_BRANDS = [a + b for a in BRAND_CHARS for b in BRAND_CHARS if a != b]
# Every (city, brand, trade) triple is one company: ~2.9M distinct names.
NAME_SPACE = len(CITIES) * len(_BRANDS) * len(TRADES)
# A prime that divides none of the space's factors: i → i·P mod N is a permutation, so the
# i-th company is unique without remembering the ones drawn before.
_NAME_STEP = 1_000_003


def company_of(index: int, seed: int) -> tuple[str, str, str]:
    """(company name without legal suffix, industry, city) of the `index`-th company of a
    seed: distinct for distinct indexes below `NAME_SPACE`."""
    k = (index * _NAME_STEP + seed * 7919) % NAME_SPACE
    k, trade = divmod(k, len(TRADES))
    city, brand = divmod(k, len(_BRANDS))
    name, industry = TRADES[trade]
    return f"{CITIES[city]}{_BRANDS[brand]}{name}", industry, CITIES[city]


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile_of(index: int, seed: int) -> str:
    """The `index`-th mobile number of a seed (distinct for distinct indexes < 10⁸·24)."""
    k = (index * 7_368_787 + seed * 104_729) % (len(MOBILE_PREFIXES) * 10**8)
    prefix, rest = divmod(k, 10**8)
    return f"{MOBILE_PREFIXES[prefix]}{rest:08d}"


def formatted_phone(number: str, rng: random.Random) -> str:
    """A mobile as people type it: plain, with dashes, spaces or the country code."""
    style = rng.random()
    if style < 0.55:
        return number
    if style < 0.75:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style < 0.9:
        return f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    return f"{number[:3]} {number[3:7]} {number[7:]}"


def credit_code_of(index: int, city: str) -> str:
    """A valid unified social credit code (GB 32100-2015, right check character) distinct for
    distinct indexes: the organisation part is the index in base 31."""
    digits = []
    n = index
    for _ in range(9):
        n, r = divmod(n, len(USCC_CHARS))
        digits.append(USCC_CHARS[r])
    first17 = f"91{CITY_CODES[city]}" + "".join(reversed(digits))
    return first17 + uscc_check_char(first17)


def restore_base(ctx: ScaleContext) -> None:
    """Fill `ctx` with what the base loaders (accounts, customers) leave in ``ids`` and
    ``facts``, read back from a database they loaded earlier: ``seed_scale --add`` runs the
    later loaders without loading the base anew. A later loader relies only on these keys:
    ``users.rep``, ``units.team``, ``customers`` and the facts ``rep_team``, ``team_reps``,
    ``team_head``."""
    from apps.accounts.choices import OrgUnitKind, Role
    from apps.accounts.models import OrgUnit, User
    from apps.customers.models import Customer

    reps = list(
        User.objects.filter(role=Role.REP, is_active=True)
        .exclude(org_unit=None)
        .order_by("id")
        .values_list("id", "org_unit_id")
    )
    teams = list(
        OrgUnit.objects.filter(kind=OrgUnitKind.TEAM).order_by("id").values_list("id", "head_id")
    )
    team_reps: dict[int, list[int]] = {team: [] for team, _head in teams}
    for rep, team in reps:
        team_reps.setdefault(team, []).append(rep)
    ctx.ids["users.rep"] = [rep for rep, _team in reps]
    ctx.ids["units.team"] = [team for team, _head in teams]
    ctx.ids["customers"] = list(Customer.objects.order_by("id").values_list("id", flat=True))
    ctx.facts.update(
        rep_team=dict(reps), team_reps=team_reps, team_head=dict(teams),
    )  # fmt: skip
