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

from django.contrib.postgres.fields import ArrayField
from django.db.models import CharField, Func, Lookup, TextField


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


# --- n-gram search (names in Chinese) -------------------------------------------------------
#
# A trigram index cannot answer a search of one or two characters — and a two-character
# search is the usual one in Chinese (科技, 华盛, 深圳): pg_trgm draws no trigram from it, so
# ``LIKE '%科技%'`` walks the table (0.5–1.1 s over 1M leads; issue 4, bench/leads_list.py).
# `salesctl_ngrams(text)` (migration core 0003) gives the upper-cased single characters and
# character pairs of a name; a GIN index on it answers any search of one character or more:
# the pairs of the search (or its one character) must all be in the name's n-grams, and the
# ``LIKE`` then keeps the names that hold the search as one run.


class Ngrams(Func):
    """``salesctl_ngrams(column)``: the expression the GIN n-gram indexes are built on."""

    function = "salesctl_ngrams"
    output_field = ArrayField(TextField())


class NgramContains(Lookup):
    """`name__ngram_contains="科技"` → the n-gram index condition and
    ``UPPER(name) LIKE UPPER('%科技%')`` (what ``icontains`` means), with `%`, `_` and `\\`
    escaped. A model that uses it has a ``GinIndex(Ngrams(column))``."""

    lookup_name = "ngram_contains"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = str(self.rhs).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = (
            f"(salesctl_ngrams({lhs}) @> salesctl_search_ngrams(%s) "
            f"AND UPPER({lhs}::text) LIKE UPPER(%s))"
        )
        return sql, [*lhs_params, str(self.rhs), *lhs_params, f"%{escaped}%"]


CharField.register_lookup(NgramContains)
TextField.register_lookup(NgramContains)
