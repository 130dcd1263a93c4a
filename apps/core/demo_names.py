"""Realistic Chinese company names, people and phones for demo and scale data (deterministic
for a seed)."""

from __future__ import annotations

import random

CITIES = ["深圳", "广州", "上海", "杭州", "东莞", "佛山", "苏州", "宁波"]
# City → region label used by territories (region → team).
REGION_OF_CITY = {
    "深圳": "深圳", "东莞": "深圳", "广州": "广州", "佛山": "广州",
    "上海": "上海", "苏州": "上海", "杭州": "杭州", "宁波": "杭州",
}  # fmt: skip
WORDS = ["华强", "南方", "恒通", "瑞丰", "金桥", "鼎盛", "宏达", "创维", "新锐", "永信", "盛世",
         "嘉禾", "中天", "海川", "天诚", "联合", "远景", "博雅", "精诚", "安泰", "德润", "光明",
         "东方", "兴业", "汇通", "锦程", "宝利", "华信", "长盈", "万邦"]  # fmt: skip
TRADES = [
    ("电子", "电子制造"), ("机电设备", "机械设备"), ("精密五金", "五金制品"), ("医疗器械", "医疗"),
    ("新材料", "化工材料"), ("物流", "物流运输"), ("食品", "食品饮料"), ("汽车零部件", "汽车"),
    ("建材", "建筑建材"), ("包装", "包装印刷"), ("服装", "纺织服装"), ("家居", "家居用品"),
]  # fmt: skip
SUFFIXES = ["有限公司", "股份有限公司", "科技有限公司", "实业有限公司", "贸易有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀英", "建华", "志强", "晓东", "丽娟", "海燕", "国平", "春梅", "文博", "子涵",
]  # fmt: skip
DISTRICTS = ["南山区", "福田区", "天河区", "浦东新区", "西湖区", "高新区"]
TITLES = ["总经理", "采购经理", "财务总监", "技术总监", "采购专员", "副总经理", "生产经理"]


def company(rng: random.Random) -> tuple[str, str, str]:
    """(company name, industry, city)."""
    city = rng.choice(CITIES)
    trade, industry = rng.choice(TRADES)
    name = f"{city}{rng.choice(WORDS)}{trade}{rng.choice(SUFFIXES)}"
    return name, industry, city


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
