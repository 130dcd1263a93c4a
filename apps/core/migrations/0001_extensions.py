"""Postgres extensions the project relies on: pg_trgm for server-side search
(DESIGN.md "Scale": trigram GIN indexes instead of LIKE scans) and btree_gin."""

from django.contrib.postgres.operations import BtreeGinExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [TrigramExtension(), BtreeGinExtension()]
