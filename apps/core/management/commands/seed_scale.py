"""`manage.py seed_scale`: load a deterministic company at scale for the benchmarks (issue 4
"Figures"; DESIGN.md "Scale": 1M leads, 200k customers, 500 users).

    manage.py seed_scale --database-name salesctl_scale            # large, into its own DB
    manage.py seed_scale --preset small                           # 10k leads, into an empty DB
    manage.py seed_scale --leads 3000 --customers 600 --users 40 --seed 7

Each app contributes ``apps/<app>/scale.py`` with ``load(ctx)`` (see `apps.core.scale`); the
loaders run in dependency order (their ``REQUIRES``), in one transaction, with COPY and the
history triggers skipped. The load is marked by one pghistory context row whose metadata is
``{"job": "seed_scale", "seed": …, "sizes": …}``; then the tables are analysed.

The data is meant for a database of its own: ``--database-name NAME`` creates it (and
migrates it) when it does not exist and loads there, so the development database is not
polluted. A database that already has users, customers or leads is refused unless
``--force``.
"""

from __future__ import annotations

import importlib
import time
import uuid
from datetime import datetime
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pghistory.models import Context
from psycopg import sql

from apps.accounts.models import User
from apps.core.scale import ScaleContext, restore_base
from apps.customers.models import Customer
from apps.leads.models import Lead

PRESETS: dict[str, dict[str, int]] = {
    "small": {"leads": 10_000, "customers": 2_000, "users": 50, "opportunities": 3_000,
              "visit_records": 20_000, "contracts": 1_000, "installments": 10_000,
              "payments": 6_000},
    "medium": {"leads": 100_000, "customers": 20_000, "users": 200, "opportunities": 30_000,
               "visit_records": 200_000, "contracts": 10_000, "installments": 100_000,
               "payments": 60_000},
    "large": {"leads": 1_000_000, "customers": 200_000, "users": 500, "opportunities": 300_000,
              "visit_records": 2_000_000, "contracts": 100_000, "installments": 1_000_000,
              "payments": 600_000},
}  # fmt: skip
# The loaders of the base company; `--add` runs later loaders over a database that has them.
BASE_APPS = ("accounts", "customers", "leads")
JOB = "seed_scale"


def scale_modules() -> list[tuple[str, ModuleType]]:
    """(app label, scale module) of every project app that has a loader, dependencies first
    (a module's ``REQUIRES`` names the app labels it needs loaded before it; otherwise the
    order of INSTALLED_APPS)."""
    found: dict[str, ModuleType] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.scale")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.scale":
                raise
            continue
        if callable(getattr(module, "load", None)):
            found[config.label] = module
    ordered: list[tuple[str, ModuleType]] = []
    visiting: set[str] = set()

    def visit(label: str) -> None:
        if any(done == label for done, _m in ordered):
            return
        if label in visiting:
            raise CommandError(f"scale loaders depend on each other in a cycle at {label!r}")
        visiting.add(label)
        for required in getattr(found[label], "REQUIRES", ()):
            if required not in found:
                raise CommandError(f"{label}.scale requires {required!r}, which has no loader")
            visit(required)
        ordered.append((label, found[label]))

    for label in found:
        visit(label)
    return ordered


class Command(BaseCommand):
    help = "Load deterministic scale data (leads, customers, users …) with COPY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", choices=sorted(PRESETS), default="large")
        parser.add_argument("--leads", type=int, help="number of leads (overrides the preset)")
        parser.add_argument("--customers", type=int, help="number of customers")
        parser.add_argument("--users", type=int, help="number of users (about 11 reps a team)")
        parser.add_argument("--opportunities", type=int, help="number of opportunities")
        parser.add_argument("--visit-records", type=int, help="number of visit records")
        parser.add_argument(
            "--contracts", type=int,
            help="number of contracts (about; instalment plans make up the installments)",
        )  # fmt: skip
        parser.add_argument(
            "--installments", type=int, help="number of installments (about 4 a contract)"
        )
        parser.add_argument("--payments", type=int, help="number of payments")
        parser.add_argument(
            "--add",
            help="comma-separated app labels (e.g. opportunities,visits): run only these "
            "loaders, over a database that already holds the base company (users, customers, "
            "leads) from an earlier seed_scale",
        )
        parser.add_argument("--seed", type=int, default=4, help="same seed, same data")
        parser.add_argument(
            "--now",
            help="reference time of the data (ISO 8601, default: now); with the same seed "
            "and --now the rows are identical",
        )
        parser.add_argument(
            "--database-name",
            help="load into this database instead of the configured one, creating and "
            "migrating it first when it does not exist",
        )
        parser.add_argument(
            "--recreate",
            action="store_true",
            help="with --database-name: drop that database first (never the configured one)",
        )
        parser.add_argument(
            "--force", action="store_true", help="load even if the database has data"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sizes = dict(PRESETS[options["preset"]])
        for key in sizes:
            if options.get(key) is not None:
                sizes[key] = options[key]
        now = self._now(options.get("now"))
        if options.get("database_name"):
            self._use_database(options["database_name"], recreate=options["recreate"])
        elif options["recreate"]:
            raise CommandError("--recreate needs --database-name")
        only = self._added_apps(options.get("add"))
        if only is not None and not self._has_data():
            raise CommandError(
                f"--add needs the base company in {connection.settings_dict['NAME']!r}: run "
                "seed_scale without --add first"
            )
        if only is None and not options["force"] and self._has_data():
            raise CommandError(
                f"database {connection.settings_dict['NAME']!r} already has users, customers "
                "or leads: load into a database of its own (--database-name NAME) or pass "
                "--force"
            )
        ctx = ScaleContext(seed=options["seed"], sizes=sizes, now=now, stdout=self.stdout)
        if only is not None:
            restore_base(ctx)
        started = time.perf_counter()
        self.stdout.write(
            f"seed_scale into {connection.settings_dict['NAME']!r}: seed {ctx.seed}, {sizes}"
        )
        self.load(ctx, only=only)
        self._analyze(list(ctx.counts))
        # Then what the nightly jobs would have left on top of the loaded documents (with
        # the planner's statistics of the load): a loader's `settle(ctx)`, when it has one.
        for label, module in scale_modules():
            if hasattr(module, "settle") and (only is None or label in only):
                began = time.perf_counter()
                module.settle(ctx)
                ctx.log(f"  ({label} settled in {time.perf_counter() - began:.1f} s)")
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{table} {n:,}" for table, n in ctx.counts.items())
        self.stdout.write(self.style.SUCCESS(f"loaded in {elapsed:.1f} s: {summary}"))

    @staticmethod
    def _added_apps(raw: str | None) -> set[str] | None:
        if not raw:
            return None
        labels = {label.strip() for label in raw.split(",") if label.strip()}
        known = {label for label, _module in scale_modules()}
        unknown = labels - known
        if unknown:
            raise CommandError(f"--add: no loader for {', '.join(sorted(unknown))}")
        if labels & set(BASE_APPS):
            raise CommandError(f"--add: {', '.join(BASE_APPS)} are the base; load them anew")
        return labels

    @staticmethod
    def load(ctx: ScaleContext, only: set[str] | None = None) -> None:
        """Run every loader in one transaction, marked by one history context."""
        with transaction.atomic(), connection.cursor() as cursor:
            # Bulk load settings, for this transaction only: index builds get memory, and
            # the commit need not wait for the WAL flush (a crash loses the load, not data).
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
            Context.objects.create(
                id=uuid.uuid4(),
                metadata={"job": JOB, "seed": ctx.seed, "sizes": ctx.sizes,
                          "now": ctx.now.isoformat()},
            )  # fmt: skip
            for label, module in scale_modules():
                if only is not None and label not in only:
                    continue
                began = time.perf_counter()
                ctx.log(f"{label}:")
                module.load(ctx)
                ctx.log(f"  ({label} done in {time.perf_counter() - began:.1f} s)")

    @staticmethod
    def _now(raw: str | None) -> datetime:
        if not raw:
            return timezone.now()
        value = parse_datetime(raw)
        if value is None:
            raise CommandError(f"--now: not an ISO 8601 date-time: {raw!r}")
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    @staticmethod
    def _has_data() -> bool:
        return User.objects.exists() or Customer.objects.exists() or Lead.objects.exists()

    def _use_database(self, name: str, *, recreate: bool) -> None:
        """Point the default connection at database `name`, creating and migrating it when
        it does not exist (with `recreate`, dropping it first)."""
        current = connection.settings_dict["NAME"]
        if recreate and name == current:
            raise CommandError("--recreate would drop the configured database: refused")
        with connection._nodb_cursor() as cursor:
            if recreate:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if not exists:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        connections.close_all()
        connection.settings_dict["NAME"] = name
        self.stdout.write(f"{'using' if exists else 'created'} database {name!r}; migrating")
        call_command("migrate", interactive=False, verbosity=0)

    def _analyze(self, tables: list[str]) -> None:
        """Fresh planner statistics; outside a transaction also VACUUM, so that the
        visibility map lets index-only scans skip the heap, as on a settled database."""
        vacuum = not connection.in_atomic_block
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for table in tables:
                statement = "VACUUM (ANALYZE) {}" if vacuum else "ANALYZE {}"
                cursor.execute(sql.SQL(statement).format(sql.Identifier(table)))
        verb = "vacuumed and analysed" if vacuum else "analysed"
        self.stdout.write(f"{verb} {len(tables)} tables in {time.perf_counter() - started:.1f} s")
