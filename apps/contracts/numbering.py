"""Contract numbers without gaps per year (合同编号), e.g. HT-2026-000123.

`next_contract_number` increments the year's counter with one upsert that locks the year's
row until the creating transaction ends: two contracts created at the same moment get
consecutive numbers (the second waits for the first to commit or roll back), and a rolled-back
creation takes its increment with it, so no number is skipped.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from .models import ContractSequence

_UPSERT = f"""
    INSERT INTO {ContractSequence._meta.db_table} (year, last_number) VALUES (%s, 1)
    ON CONFLICT (year) DO UPDATE SET last_number = {ContractSequence._meta.db_table}.last_number + 1
    RETURNING last_number
"""  # noqa: S608 (table name from the model, not from input)


def format_contract_number(year: int, sequence: int) -> str:
    return f"{settings.CONTRACT_NUMBER_PREFIX}-{year}-{sequence:06d}"


def next_contract_number(year: int) -> str:
    """The next number of `year`; call it inside the transaction that creates the contract."""
    if not connection.in_atomic_block:
        raise RuntimeError("next_contract_number must run inside the creating transaction.")
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [year])
        (sequence,) = cursor.fetchone()
    return format_contract_number(year, sequence)
