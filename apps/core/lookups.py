"""Custom ORM lookups shared by every app.

`ilike_contains`: ``name__ilike_contains="abc"`` → ``name ILIKE '%abc%'``, which Postgres
answers from a ``gin_trgm_ops`` index (DESIGN.md "Scale"), unlike Django's ``icontains``
(``UPPER(name) LIKE UPPER(…)``), which no trigram index on the plain column serves.

The lookups are registered when this module is imported. `apps.core.apps` is shared, so it
does not import it: an app that uses a lookup imports this module in its own
``AppConfig.ready()`` (``from apps.core import lookups  # noqa: F401``), as
`apps.customers.apps` does. Registering twice is harmless.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Lookup, TextField


class ILikeContains(Lookup):
    """`field__ilike_contains="abc"` → `field ILIKE '%abc%'`, with `%`, `_` and `\\` in the
    value escaped so that they match themselves."""

    lookup_name = "ilike_contains"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "%s", [f"%{escaped}%"]


CharField.register_lookup(ILikeContains)
TextField.register_lookup(ILikeContains)
