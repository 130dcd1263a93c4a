"""Scheduled attainment reports (issue 7 "Scheduled reports"; DESIGN.md reports): on Mondays for
the week before and on the 1st for the month before, every active rep, supervisor and manager
gets an in-app notification and an e-mail with an Excel file of their attainment: their own
targets, and for a head the targets of the units they head and of the reps in them.

Exactly once per person and period: the job first claims the person's `ScheduledReportRun` row
(INSERT … ON CONFLICT DO NOTHING RETURNING, one statement for everyone), and only the claimed
people are sent anything, so a retry, a second run or a second worker sends nothing twice. The
e-mails leave after the claim commits (at most once: a failed SMTP delivery is not retried).

The actuals come from `actuals.compute`, once per (metric, period) for everyone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.names import person_name
from apps.notifications.choices import NotificationKind
from apps.notifications.services import notify

from . import actuals
from .choices import Metric, PeriodKind, ScopeKind, TargetStatus
from .closing import attainment_pct
from .models import Target
from .periods import Period, period_of

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECIPIENT_ROLES = (Role.REP, Role.SUPERVISOR, Role.MANAGER)
REPORT_KINDS = (PeriodKind.WEEK, PeriodKind.MONTH)
_MONEY_FORMAT = "#,##0.00;-#,##0.00"
_PCT_FORMAT = "0.0"
ZERO = Decimal("0")


@dataclass(frozen=True)
class ReportLine:
    """One target of the report with its actual."""

    section: str  # "own", "unit" or "rep"
    name: str  # the unit's or the rep's
    metric: str
    start: date
    end: date
    target: Decimal
    actual: Decimal

    @property
    def attainment(self) -> Decimal | None:
        return attainment_pct(self.target, self.actual)

    @property
    def gap(self) -> Decimal:
        return max(self.target - self.actual, ZERO)


def report_period(kind: str, today: date) -> Period:
    """The period a report sent on `today` covers: the whole week or month before today's."""
    if kind not in REPORT_KINDS:
        raise ValueError(f"no scheduled report for period kind {kind!r}")
    return period_of(kind, today).previous()


def _targets_of(period: Period) -> list[dict]:
    """Live rep and unit targets of `period`'s kind starting in it (a week clipped to two
    months has two parts), with the names and unit paths the report needs. One query."""
    return list(
        Target.objects.filter(
            period_kind=period.kind,
            period_start__gte=period.start,
            period_start__lte=period.end,
            scope_kind__in=[ScopeKind.REP, ScopeKind.UNIT],
        )
        .exclude(status=TargetStatus.DRAFT)
        .order_by("metric", "period_start", "id")
        .values(
            "metric", "period_start", "period_end", "scope_kind", "org_unit_id",
            "org_unit__path", "org_unit__name", "user_id", "user__first_name",
            "user__last_name", "user__username", "amount",
        )
    )  # fmt: skip


def attainment_lines(people: list[User], period: Period) -> dict[int, list[ReportLine]]:
    """{person id: their report lines}: their own targets first, then (for a head) the targets
    of the units they head and below, then of the reps there. Three queries plus one per
    (metric, period part)."""
    rows = _targets_of(period)
    computed = {
        key: actuals.compute(*key)
        for key in {(r["metric"], r["period_start"], r["period_end"]) for r in rows}
    }

    def line(section: str, row: dict) -> ReportLine:
        figures = computed[(row["metric"], row["period_start"], row["period_end"])]
        if row["scope_kind"] == ScopeKind.REP:
            name = person_name(row["user__first_name"], row["user__last_name"])
            name = name or row["user__username"]
        else:
            name = row["org_unit__name"]
        actual = figures.scope(
            row["scope_kind"], unit_id=row["org_unit_id"], user_id=row["user_id"]
        )
        return ReportLine(
            section=section, name=name, metric=row["metric"], start=row["period_start"],
            end=row["period_end"], target=row["amount"], actual=actual,
        )  # fmt: skip

    own: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["scope_kind"] == ScopeKind.REP:
            own[row["user_id"]].append(row)
    headed: dict[int, list[str]] = defaultdict(list)
    for head_id, path in OrgUnit.objects.filter(
        head_id__in=[p.pk for p in people], is_active=True
    ).values_list("head_id", "path"):
        headed[head_id].append(path)
    result: dict[int, list[ReportLine]] = {}
    for person in people:
        lines = [line("own", row) for row in own.get(person.pk, [])]
        paths = tuple(headed.get(person.pk, ()))
        if paths:
            below = [r for r in rows if (r["org_unit__path"] or "").startswith(paths)]
            lines += [line("unit", r) for r in below if r["scope_kind"] == ScopeKind.UNIT]
            lines += sorted(
                (
                    line("rep", r)
                    for r in below
                    if r["scope_kind"] == ScopeKind.REP and r["user_id"] != person.pk
                ),
                key=lambda item: (item.metric, item.name, item.start),
            )
        result[person.pk] = lines
    return result


def _section_label(section: str) -> str:
    return {"own": _("Mine"), "unit": _("Unit"), "rep": _("Rep")}[section]


def attainment_workbook(person: User, period: Period, lines: list[ReportLine]) -> bytes:
    """The person's report as an .xlsx: the title, the person, then one row per line
    (section, name, metric, period, target, actual, attainment %, gap) under a header in row 4;
    money and ratios as numbers with their formats."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Attainment")[:31]
    sheet.append([_("Attainment report: %(period)s") % {"period": period.label()}])
    sheet["A1"].font = bold
    sheet.append([person.display_name])
    sheet.append([])
    sheet.append(
        [
            _("Section"), _("Name"), _("Metric"), _("Period"), _("Target"), _("Actual"),
            _("Attainment (%)"), _("Gap"),
        ]
    )  # fmt: skip
    for cell in sheet[4]:
        cell.font = bold
    for item in lines:
        pct = item.attainment
        sheet.append(
            [
                _section_label(item.section), item.name, str(Metric(item.metric).label),
                f"{item.start:%Y-%m-%d} – {item.end:%Y-%m-%d}", item.target, item.actual,
                None if pct is None else float(pct), item.gap,
            ]
        )  # fmt: skip
        row = sheet[sheet.max_row]
        for cell in (row[4], row[5], row[7]):
            cell.number_format = _MONEY_FORMAT
        row[6].number_format = _PCT_FORMAT
    if not lines:
        sheet.append([_("No target was set for you in this period.")])
    sheet.column_dimensions["A"].width = 10
    sheet.column_dimensions["B"].width = 24
    sheet.column_dimensions["C"].width = 24
    sheet.column_dimensions["D"].width = 26
    for letter in "EFGH":
        sheet.column_dimensions[letter].width = 16
    sheet.freeze_panes = "A5"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _report_url() -> str:
    try:
        return reverse("goals:attainment")
    except NoReverseMatch:  # the attainment page is another part of the app
        return ""


def report_subject(period: Period) -> str:
    return _("Your attainment report: %(period)s") % {"period": period.label()}


def attainment_message(person: User, period: Period, lines: list[ReportLine]) -> EmailMessage:
    """The e-mail to `person`: their own figures in the text, everything in the attachment."""
    own = [item for item in lines if item.section == "own"]
    text = [_("Hello %(name)s,") % {"name": person.display_name}, ""]
    text.append(_("Your attainment for %(period)s:") % {"period": period.label()})
    for item in own:
        pct = item.attainment
        text.append(
            _("- %(metric)s: %(actual)s of %(target)s (%(pct)s)")
            % {
                "metric": Metric(item.metric).label,
                "actual": item.actual,
                "target": item.target,
                "pct": "—" if pct is None else f"{pct}%",
            }
        )
    if not own:
        text.append(_("No target of your own was set in this period."))
    if len(lines) > len(own):
        text += ["", _("Your units' and reps' figures are in the attached file.")]
    url = _report_url()
    if url:
        text += ["", f"{getattr(settings, 'SITE_URL', '').rstrip('/')}{url}"]
    message = EmailMessage(
        subject=report_subject(period),
        body="\n".join(str(part) for part in text),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[person.email],
    )
    filename = f"attainment-{period.kind}-{period.start:%Y%m%d}.xlsx"
    message.attach(filename, attainment_workbook(person, period, lines), XLSX_CONTENT_TYPE)
    return message


_CLAIM = """
    INSERT INTO goals_scheduledreportrun (user_id, period_kind, period_start, sent_at)
    SELECT u.id, %(kind)s, %(start)s, now()
      FROM accounts_user u
     WHERE u.is_active AND u.role = ANY(%(roles)s)
     ORDER BY u.id
        ON CONFLICT (user_id, period_kind, period_start) DO NOTHING
    RETURNING user_id
"""


def _claim(period: Period) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM,
            {
                "kind": period.kind,
                "start": period.start,
                "roles": [str(r) for r in RECIPIENT_ROLES],
            },
        )
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def send_attainment_reports(*, kind: str, today: date) -> int:
    """Send the `kind` ("week" or "month") report of the period before `today`'s to every
    active rep, supervisor and manager not sent it yet. Returns how many people it sent to."""
    period = report_period(kind, today)
    claimed = _claim(period)
    if not claimed:
        return 0
    people = list(User.objects.filter(pk__in=claimed).order_by("pk"))
    lines = attainment_lines(people, period)
    url = _report_url()
    by_language: dict[str, list[User]] = defaultdict(list)
    for person in people:
        by_language[person.language or settings.LANGUAGE_CODE].append(person)
    messages: list[EmailMessage] = []
    for language, group in by_language.items():
        with translation.override(language):
            # Its own kind: the e-mail with the workbook goes out below, so a preference for
            # e-mail on general notices does not send it twice.
            notify(
                recipients=group,
                title=report_subject(period),
                url=url,
                kind=NotificationKind.ATTAINMENT_REPORT,
            )
            messages += [
                attainment_message(person, period, lines.get(person.pk, []))
                for person in group
                if person.email
            ]
    if messages:
        transaction.on_commit(lambda: get_connection().send_messages(messages))
    return len(people)
