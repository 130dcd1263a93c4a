"""`salesctl_ngrams(text)` and `salesctl_search_ngrams(text)`: the n-grams of a name and of a
search, for the GIN n-gram indexes that answer one- and two-character searches (Chinese names),
which a trigram index cannot (see `apps.core.lookups.NgramContains`).

PL/pgSQL, so that the planner never inlines the function: the index expression and the query
then stay the same call, and the search's n-grams are computed once, at planning, from the
constant (the function is immutable).
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION salesctl_ngrams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    u text := upper(value);
    n integer := length(u);
    grams text[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        grams := grams || substr(u, i, 1);
        IF i < n THEN
            grams := grams || substr(u, i, 2);
        END IF;
    END LOOP;
    RETURN grams;
END
$$;

CREATE OR REPLACE FUNCTION salesctl_search_ngrams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    u text := upper(value);
    n integer := length(u);
    grams text[] := '{}';
BEGIN
    IF n = 1 THEN
        RETURN ARRAY[u];
    END IF;
    FOR i IN 1..n - 1 LOOP
        grams := grams || substr(u, i, 2);
    END LOOP;
    RETURN grams;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS salesctl_search_ngrams(text);
DROP FUNCTION IF EXISTS salesctl_ngrams(text);
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0002_worker_heartbeat")]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
