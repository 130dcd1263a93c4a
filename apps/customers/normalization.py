"""Normalized identity keys for dedupe (leads and customers), so that a duplicate is found by an
indexed equality, never by a Python loop or a LIKE scan:

- phone: E.164 with the `phonenumbers` library, default region CN ("138-0013-8000" and
  "+86 138 0013 8000" are the same key);
- e-mail: trimmed, lower-case;
- company name: full-width → half-width (NFKC), lower-case, punctuation and spaces removed,
  legal-form suffixes removed (有限公司, 股份有限公司, 有限责任公司, 集团, Co., Ltd., Inc. …);
- unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, checksum
  validated; a wrong one is an error of its field.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_REGION = "CN"

# Longest first, so that 股份有限公司 is removed whole rather than leaving 股份.
_SUFFIXES = sorted(
    [
        "股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团股份有限公司", "集团公司",
        "集团", "公司", "分公司", "厂", "商行", "工作室",
        "co ltd", "company limited", "co limited", "corporation", "limited", "ltd", "inc",
        "llc", "gmbh", "corp", "co", "plc", "group",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str:
    """E.164 of a phone number, or "" when it is empty or not a possible number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(unicodedata.normalize("NFKC", raw), region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(raw: str | None) -> str:
    """The E.164 key of a phone a user typed, or a field error naming what is wrong."""
    if not (raw or "").strip():
        return ""
    key = normalize_phone(raw)
    if not key:
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone")
    return key


def normalize_email(raw: str | None) -> str:
    return (raw or "").strip().lower()


def normalize_company_name(raw: str | None) -> str:
    """A company name reduced to what identifies it (see the module docstring)."""
    name = unicodedata.normalize("NFKC", raw or "").lower()
    name = re.sub(r"[（(][^）)]*[）)]", " ", name)  # (深圳) / (Shenzhen) branch notes
    words = _PUNCT.sub(" ", name).strip()
    changed = True
    while changed and words:
        changed = False
        for suffix in _SUFFIXES:
            if words.endswith(suffix) and len(words) > len(suffix):
                words = words[: -len(suffix)].rstrip()
                changed = True
                break
    return _PUNCT.sub("", words)


# GB 32100-2015: the 31 characters used, their values, and the weights of positions 1–17.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(_USCC_CHARS)}
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def normalize_credit_code(raw: str | None) -> str:
    """The 18-character unified social credit code in upper case, "" when empty.

    Raises ValidationError (code "invalid_credit_code") when it is not 18 characters of the
    allowed set or its check character is wrong.
    """
    code = unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
    if not code:
        return ""
    if len(code) != 18 or any(c not in _USCC_VALUES for c in code):
        raise ValidationError(
            _("A unified social credit code has 18 characters (digits and capital letters)."),
            code="invalid_credit_code",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("This unified social credit code is not valid: its check character is wrong."),
            code="invalid_credit_code",
        )
    return code
