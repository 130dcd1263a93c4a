"""How a person's name is written: Chinese names surname first without a space (王伟), other
names "first last"."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def person_name(first: str, last: str) -> str:
    first, last = (first or "").strip(), (last or "").strip()
    if _CJK.search(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))
