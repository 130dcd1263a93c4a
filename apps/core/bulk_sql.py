"""Set-based writes the bulk services share (issue 9): one statement for many rows."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import OperationalError, connection, models


def lost_race(exc: OperationalError) -> bool:
    """A deadlock with a concurrent batch (Postgres killed this statement to break it)."""
    return getattr(exc.__cause__, "sqlstate", None) == "40P01"


def update_rows(
    model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]
) -> int:
    """Write `fields` of `rows` (saved instances) in one `UPDATE … FROM unnest(arrays)`: one
    array per column, whatever the number of rows. (`QuerySet.bulk_update` builds a CASE per
    row and field in Python: seconds for 1,000 rows.) Row-level triggers (history) fire per
    row as for any UPDATE. Returns the number of rows updated."""
    if not rows:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in sorted(set(fields)))]
    arrays = [
        [column.get_db_prep_save(getattr(row, column.attname), connection) for row in rows]
        for column in columns
    ]
    unnest = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    assignments = ", ".join(f"{quote(c.column)} = v.c{i}" for i, c in enumerate(columns) if i)
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 (names from meta)
        f"FROM unnest({unnest}) AS v({aliases}) WHERE t.{quote(meta.pk.column)} = v.c0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
