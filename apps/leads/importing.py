"""Lead import (线索导入): a CSV or Excel file of up to 10,000 prospects, previewed, then
captured all or nothing.

The rows go through the same validation (`LeadDataForm`) and the same identity keys as
`services.lead_capture`, but a file is captured set-based rather than row by row: one query
per key kind finds every existing customer, contact and lead of the whole file, duplicates
inside the file are found with the same keys (the second row of a company is a touch on the
first one's lead), the new leads are scored and given to the least-loaded reps of their
territory in memory (grade A first, file order within a grade) and written with `bulk_create`.
So a 10,000-row file takes seconds instead of the minutes of 10,000 single captures, and the
rules stay those of a single capture.

Between the preview and the confirmation the file waits in the database (`PendingImport`: its
bytes, who uploaded it, its name, the channel), never in the session nor on a web machine's
disk, so that any machine can serve either step and the purge job runs anywhere.
"""

from __future__ import annotations

import heapq
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.core.history import history_context
from apps.customers.models import Contact, Customer
from apps.customers.normalization import normalize_company_name, normalize_email, normalize_phone
from apps.notifications.services import notify

from . import scoring
from .choices import OPEN_STATUSES, LeadSource, LeadStatus
from .forms import LEAD_DATA_FIELDS, LeadDataForm
from .models import Lead, LeadTouch, PendingImport, Territory
from .services import _give, _json_safe

IMPORT_LOCK = "lead-import"
IMPORT_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})

# Column names accepted for each field, Chinese and English (compared without spaces, "*",
# "_", "-" and brackets, case-insensitive). The first Chinese and the first English name are
# the headers of the downloadable template.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "company_name": ("公司名称", "company", "company name", "公司", "企业名称", "客户名称",
                     "单位名称"),
    "contact_name": ("联系人", "contact", "contact name", "联系人姓名", "姓名"),
    "phone": ("电话", "phone", "联系电话", "手机", "手机号", "手机号码", "mobile", "tel",
              "telephone"),
    "email": ("邮箱", "email", "e-mail", "电子邮箱", "电子邮件", "mail"),
    "credit_code": ("统一社会信用代码", "credit_code", "credit code", "信用代码", "uscc"),
    "region": ("地区", "region", "区域", "省份", "城市"),
    "industry": ("行业", "industry", "所属行业"),
    "company_size": ("企业规模", "company_size", "company size", "规模", "size"),
    "intent": ("意向", "intent", "意向程度", "购买意向"),
    "budget": ("预算", "budget", "预算金额"),
    "decision_time_frame": ("决策周期", "decision_time_frame", "decision time frame",
                            "time frame"),
    "notes": ("备注", "notes", "note", "remark", "remarks", "说明"),
}  # fmt: skip
_CHOICE_FIELDS = ("company_size", "intent", "decision_time_frame")
# Words lists in China use for intent, besides the codes and labels.
_CHOICE_SYNONYMS = {"intent": {"高": "high", "中": "medium", "低": "low"}}
_HEADER_NOISE = re.compile(r"[\s*_\-()（）:：]+")
_KEY_KINDS = ("name", "phone", "email", "uscc")


def _header_key(text: Any) -> str:
    return _HEADER_NOISE.sub("", str(text or "")).lower()


_ALIAS_TO_FIELD = {_header_key(a): f for f, aliases in HEADER_ALIASES.items() for a in aliases}


def can_import(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role in IMPORT_ROLES))


# --- reading a file ------------------------------------------------------------------------


@dataclass
class ImportFile:
    """The rows of a file: `rows` are (spreadsheet row number, {field: text}); the header is
    row 1, so the first data row is 2."""

    columns: dict[str, str] = field(default_factory=dict)  # field → the file's header
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    error: str = ""


def _read_frame(content: bytes, suffix: str) -> pd.DataFrame:
    if suffix == ".xlsx":
        return pd.read_excel(
            BytesIO(content), sheet_name=0, header=None, dtype=str, engine="openpyxl",
            keep_default_na=False,
        )  # fmt: skip
    # Excel in China saves CSV as GBK; UTF-8 (with or without BOM) first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(BytesIO(content), header=None, dtype=str, keep_default_na=False,
                               skip_blank_lines=False, encoding=encoding)  # fmt: skip
        except UnicodeDecodeError:
            continue
    raise ValueError("encoding")


def read_file(content: bytes, *, suffix: str) -> ImportFile:
    """Read the bytes of a CSV or .xlsx file (`suffix` ".csv" or ".xlsx") into rows keyed by
    field, every cell as text."""
    result = ImportFile()
    try:
        frame = _read_frame(content, suffix)
    except Exception:  # pandas raises many kinds on a broken file; all mean the same here
        result.error = _("The file could not be read. Upload a CSV (UTF-8 or GBK) or .xlsx file.")
        return result
    if frame.empty:
        result.error = _("The file is empty.")
        return result
    frame = frame.fillna("")
    header = [str(h).strip() for h in frame.iloc[0].tolist()]
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        target = _ALIAS_TO_FIELD.get(_header_key(name))
        if target and target not in positions:
            positions[target] = i
            result.columns[target] = name
        elif name:
            result.ignored_columns.append(name)
    if "company_name" not in positions:
        result.error = _(
            "No company name column: the first row must hold the column names, "
            "e.g. 公司名称 or company."
        )
        return result
    values = frame.to_numpy(dtype=object)
    for index in range(1, len(values)):
        cells = values[index]
        row = {f: str(cells[i]).strip() for f, i in positions.items()}
        if any(row.values()):
            result.rows.append((index + 1, row))
    if len(result.rows) > settings.LEAD_IMPORT_MAX_ROWS:
        result.error = _(
            "The file has %(count)d rows; at most %(max)d can be imported at once."
        ) % {
            "count": len(result.rows),
            "max": settings.LEAD_IMPORT_MAX_ROWS,
        }
    return result


# --- validation and dedupe ---------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    field: str  # a lead field, "" for the row as a whole
    message: str


@dataclass
class PlannedRow:
    row: int
    lead: Lead
    data: dict[str, Any]
    keys: dict[str, str]
    # What it duplicates: ("customer", id, owner_id), ("lead", id, owner_id) or ("row", n, None).
    duplicate_of: tuple[str, int, int | None] | None = None


@dataclass
class ImportPlan:
    """What importing a file would do: its new leads, its duplicates (touches) and its invalid
    rows with each error's row number and field."""

    file: ImportFile
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def invalid_count(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def new_count(self) -> int:
        return sum(1 for r in self.rows if r.duplicate_of is None)

    @property
    def duplicate_count(self) -> int:
        return sum(1 for r in self.rows if r.duplicate_of is not None)

    @property
    def can_import(self) -> bool:
        return not self.file.error and not self.errors and bool(self.rows)


def _choice_lookup() -> dict[str, dict[str, str]]:
    """Values of the choice fields by their code or their label in English or Chinese."""
    lookup: dict[str, dict[str, str]] = {}
    for name in _CHOICE_FIELDS:
        choices = Lead._meta.get_field(name).choices
        table: dict[str, str] = {}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                for value, label in choices:
                    table[str(label).strip().lower()] = value
        for value, _label in choices:
            table[str(value).lower()] = value
        table.update(_CHOICE_SYNONYMS.get(name, {}))
        lookup[name] = table
    return lookup


def _row_instance() -> Lead:
    lead = Lead()
    # The model's one constraint (score 0–100) is on a field the form does not set (scoring
    # sets it below, the database checks it on insert); Django would check it with a query per
    # row, a third of the time of a 10,000-row file.
    lead.validate_constraints = lambda exclude=None: None
    return lead


def validate_rows(file: ImportFile, *, channel: str) -> ImportPlan:
    """Validate every row with the capture's own form; compute the identity keys of the valid
    ones. No writes."""
    plan = ImportPlan(file=file)
    if file.error:
        return plan
    choices = _choice_lookup()
    rules = scoring.active_rules()
    for number, row in file.rows:
        data = {name: row.get(name, "") for name in LEAD_DATA_FIELDS}
        for name in _CHOICE_FIELDS:
            if data[name]:
                data[name] = choices[name].get(data[name].strip().lower(), data[name])
        form = LeadDataForm(data=data, instance=_row_instance())
        if not form.is_valid():
            for name, errors in form.errors.as_data().items():
                for error in errors:
                    for message in error.messages:
                        plan.errors.append(
                            RowError(
                                row=number, field="" if name == "__all__" else name, message=message
                            )
                        )
            continue
        lead: Lead = form.save(commit=False)
        lead.source, lead.channel = LeadSource.IMPORT, channel[:100]
        lead.name_key = normalize_company_name(lead.company_name)
        lead.phone_key = normalize_phone(lead.phone)
        lead.email_key = normalize_email(lead.email)
        lead.score, lead.grade = scoring.score_of(lead, rules)
        keys = {"name": lead.name_key, "phone": lead.phone_key, "email": lead.email_key,
                "uscc": lead.credit_code}  # fmt: skip
        plan.rows.append(
            PlannedRow(
                row=number,
                lead=lead,
                data=dict(form.cleaned_data),
                keys={k: v for k, v in keys.items() if v},
            )
        )
    return plan


_FIELD_OF = {"name": "name_key", "phone": "phone_key", "email": "email_key", "uscc": "credit_code"}


def _existing(model, kinds: Iterable[str], values: dict[str, set[str]], **filters) -> dict:
    """{(kind, key): [(id, owner_id, credit_code)]} of `model`, one query per key kind."""
    found: dict[tuple[str, str], list[tuple[int, int | None, str]]] = defaultdict(list)
    for kind in kinds:
        keys = values.get(kind)
        if not keys:
            continue
        column = _FIELD_OF[kind]
        qs = model.objects.filter(**{f"{column}__in": keys}, **filters)
        if model is Lead:
            qs = qs.exclude(status=LeadStatus.CONVERTED)
        for pk, owner_id, code, key in qs.values_list("id", "owner_id", "credit_code", column):
            found[(kind, key)].append((pk, owner_id, code))
    return found


def resolve_duplicates(plan: ImportPlan) -> ImportPlan:
    """Mark each valid row new or a duplicate, with the rules of `services.find_duplicate`:
    an existing customer first (by its keys, then its contacts' phone and e-mail), else a lead
    (existing, or an earlier new row of the same file); a matching credit code is the strongest
    match, then the oldest record."""
    values: dict[str, set[str]] = defaultdict(set)
    for planned in plan.rows:
        for kind, key in planned.keys.items():
            values[kind].add(key)
    customers = _existing(Customer, _KEY_KINDS, values)
    leads = _existing(Lead, _KEY_KINDS, values)
    contacts: dict[tuple[str, str], list[tuple[int, int | None]]] = defaultdict(list)
    for kind in ("phone", "email"):
        if values.get(kind):
            column = _FIELD_OF[kind]
            qs = Contact.objects.filter(**{f"{column}__in": values[kind]})
            for customer_id, owner_id, key in qs.values_list(
                "customer_id", "customer__owner_id", column
            ):
                contacts[(kind, key)].append((customer_id, owner_id))

    in_file: dict[tuple[str, str], PlannedRow] = {}
    for planned in plan.rows:
        code = planned.keys.get("uscc", "")
        keys = list(planned.keys.items())
        candidates = {c for k in keys for c in customers.get(k, [])}
        if candidates:
            pk, owner_id, _code = min(candidates, key=lambda c: (c[2] != code or not code, c[0]))
            planned.duplicate_of = ("customer", pk, owner_id)
            continue
        via_contact = {c for k in keys for c in contacts.get(k, [])}
        if via_contact:
            pk, owner_id = min(via_contact)
            planned.duplicate_of = ("customer", pk, owner_id)
            continue
        # Existing leads are older than any row of the file: they sort first at equal strength.
        lead_candidates = [(c[2] != code or not code, 0, c[0], ("lead", c[0], c[1]))
                           for k in keys for c in leads.get(k, [])]  # fmt: skip
        lead_candidates += [
            (row.keys.get("uscc") != code or not code, 1, row.row, ("row", row.row, None))
            for k in keys
            if (row := in_file.get(k)) is not None
        ]
        if lead_candidates:
            planned.duplicate_of = min(lead_candidates)[3]
            continue
        for k in keys:
            in_file.setdefault(k, planned)
    return plan


def analyse(file: ImportFile, *, channel: str = "") -> ImportPlan:
    """The preview: validation and dedupe of every row, no writes."""
    plan = validate_rows(file, channel=channel)
    if file.error:
        return plan
    return resolve_duplicates(plan)


# --- the import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    duplicates: int
    assigned: int


def _lock_imports() -> None:
    """One import at a time (a transaction-scoped advisory lock), so that two files listing
    the same company cannot both create it.

    `lead_capture` locks each identity key instead; an import cannot take those (a 10,000-row
    file has ~30,000 keys, beyond Postgres' max_locks_per_transaction), so a single capture of
    a company of the file during the few seconds of the write can still create a second lead
    (see the issue note: the capture can take this lock in shared mode to close the gap)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [IMPORT_LOCK])


def _assign(new_leads: list[Lead], now) -> tuple[dict[int, list[Lead]], dict[int, int]]:
    """Give the new leads to the least-loaded active reps of their territory's team, grade A
    first and file order within a grade (the rule of `lead_assign_batch`), counting the
    leads given so far. Returns the leads per rep and the count of leads waiting per team
    without a rep."""
    regions = {lead.region for lead in new_leads if lead.region}
    team_of = dict(
        Territory.objects.filter(region__in=regions, is_active=True).values_list(
            "region", "team_id"
        )
    )
    if not team_of:
        return {}, {}
    # One assignment at a time per team, as lead_assign_auto does (pk order: no deadlock).
    teams = {
        t.pk: t
        for t in OrgUnit.objects.select_for_update(of=("self",))
        .filter(pk__in=set(team_of.values()))
        .order_by("pk")
    }
    reps = (
        User.objects.filter(org_unit_id__in=teams, role=Role.REP, is_active=True)
        .annotate(open_leads=Count("leads", filter=Q(leads__status__in=OPEN_STATUSES)))
        .order_by("pk")
    )
    heaps: dict[int, list[tuple[int, str, int, User]]] = defaultdict(list)
    for rep in reps:
        heaps[rep.org_unit_id].append((rep.open_leads, rep.username, rep.pk, rep))
    for heap in heaps.values():
        heapq.heapify(heap)
    given: dict[int, list[Lead]] = defaultdict(list)
    waiting: dict[int, int] = defaultdict(int)
    for _pos, lead in sorted(enumerate(new_leads), key=lambda p: (p[1].grade, p[0])):
        team_id = team_of.get(lead.region)
        if team_id is None:
            continue
        heap = heaps.get(team_id)
        if not heap:
            lead.team = teams[team_id]
            waiting[team_id] += 1
            continue
        count, username, pk, rep = heapq.heappop(heap)
        _give(lead, to=rep, team=teams[team_id], now=now)
        heapq.heappush(heap, (count + 1, username, pk, rep))
        given[pk].append(lead)
    return given, waiting


def import_plan(*, plan: ImportPlan, by: User) -> ImportResult:
    """Write a resolved plan: the new leads, scored and assigned, and a touch per duplicate;
    tell the reps of their new leads and the owners of the duplicated records. Call inside
    the transaction that took the identity locks before resolving the plan."""
    now = timezone.now()
    new_rows = [r for r in plan.rows if r.duplicate_of is None]
    new_leads = [r.lead for r in new_rows]
    given, waiting = _assign(new_leads, now)
    Lead.objects.bulk_create(new_leads, batch_size=1000)
    lead_of_row = {r.row: r.lead for r in new_rows}

    touches: list[LeadTouch] = []
    told: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for r in plan.rows:
        if r.duplicate_of is None:
            continue
        kind, pk, owner_id = r.duplicate_of
        touch = LeadTouch(source=LeadSource.IMPORT, channel=r.lead.channel,
                          payload=_json_safe(r.data))  # fmt: skip
        if kind == "customer":
            touch.customer_id = pk
        elif kind == "lead":
            touch.lead_id = pk
        else:
            touch.lead_id = lead_of_row[pk].pk
        touches.append(touch)
        if owner_id is not None:
            told[owner_id].add((kind, pk))
    LeadTouch.objects.bulk_create(touches, batch_size=1000)
    _notify(given=given, waiting=waiting, told=told, by=by)
    return ImportResult(
        created=len(new_leads),
        duplicates=len(touches),
        assigned=sum(len(v) for v in given.values()),
    )


def _notify(*, given, waiting, told, by: User) -> None:
    list_url = reverse("leads:list")
    users = User.objects.in_bulk([*given, *told])
    for rep_id, leads in given.items():
        if len(leads) == 1:
            title = _("New lead for you: %(name)s (grade %(grade)s)") % {
                "name": leads[0].company_name, "grade": leads[0].grade,
            }  # fmt: skip
            url = leads[0].get_absolute_url()
        else:
            title = _("%(count)d new imported leads for you") % {"count": len(leads)}
            url = f"{list_url}?source={LeadSource.IMPORT}"
        notify(recipients=[users[rep_id]], title=title, url=url, actor=by)
    for team in OrgUnit.objects.filter(pk__in=waiting).select_related("head"):
        if team.head is not None:
            notify(
                recipients=[team.head],
                title=_("%(count)d imported leads are waiting for assignment in %(team)s")
                % {"count": waiting[team.pk], "team": team.name},
                url=list_url,
                actor=by,
            )
    for owner_id, records in told.items():
        notify(
            recipients=[users[owner_id]],
            title=_("%(count)d of your leads or customers were in an imported list again")
            % {"count": len(records)},
            url=list_url,
            actor=by,
        )


# --- the stored upload and the use case -----------------------------------------------------


@dataclass(frozen=True)
class StoredImport:
    """A pending upload (a `PendingImport` row) as the wizard uses it: `token` is the UUID in
    hex, as in the wizard's URL."""

    token: str
    name: str
    channel: str
    user_id: int
    suffix: str
    size: int
    content: bytes = field(repr=False)


_TOKEN = re.compile(r"[0-9a-f]{32}")


def _stored(row: PendingImport) -> StoredImport:
    return StoredImport(
        token=row.token.hex, name=row.name, channel=row.channel, user_id=row.user_id,
        suffix=row.suffix, size=row.size, content=bytes(row.content),
    )  # fmt: skip


@transaction.atomic
def import_store(*, upload: UploadedFile, by: User, channel: str = "") -> StoredImport:
    """Keep an uploaded file until it is confirmed, as a `PendingImport` row in the database
    (not on the web machine's disk: the preview and the confirmation may be served by
    different machines). A file over settings.LEAD_IMPORT_MAX_BYTES is refused (ValidationError
    on "file") before it is read."""
    limit = settings.LEAD_IMPORT_MAX_BYTES
    if (upload.size or 0) > limit:
        raise ValidationError(
            {
                "file": ValidationError(
                    _("The file is too large (at most %(mb)d MB).")
                    % {"mb": limit // (1024 * 1024)},
                    code="file_size",
                )
            }
        )
    name = upload.name or ""
    content = b"".join(upload.chunks())
    row = PendingImport.objects.create(
        user=by,
        name=name[:255],
        channel=channel[:100],
        suffix=".xlsx" if name.lower().endswith(".xlsx") else ".csv",
        content=content,
        size=len(content),
    )
    return _stored(row)


def import_get(*, token: str, by: User) -> StoredImport:
    """The pending upload of `by` (another user's, a missing one or a malformed token is a
    404)."""
    if not _TOKEN.fullmatch(token or ""):
        raise Http404
    row = PendingImport.objects.filter(pk=uuid.UUID(hex=token), user_id=by.pk).first()
    if row is None:
        raise Http404
    return _stored(row)


def import_discard(stored: StoredImport) -> bool:
    """Delete a pending upload; False if it was already gone. Inside a transaction the DELETE
    locks the row until the commit (see `lead_import`)."""
    deleted, _by_model = PendingImport.objects.filter(pk=uuid.UUID(hex=stored.token)).delete()
    return bool(deleted)


def import_purge_stale(*, ttl_hours: float | None = None, now: datetime | None = None) -> int:
    """Delete the uploads nobody confirmed (an abandoned wizard) once they are older than
    `ttl_hours` (settings.LEAD_IMPORT_UPLOAD_TTL_HOURS, 24 by default), in one DELETE (the
    contents are never read). Returns how many were removed; running it again removes nothing
    more."""
    if ttl_hours is None:
        ttl_hours = float(getattr(settings, "LEAD_IMPORT_UPLOAD_TTL_HOURS", 24))
    cutoff = (now or timezone.now()) - timedelta(hours=ttl_hours)
    deleted, _by_model = PendingImport.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def import_preview(*, stored: StoredImport) -> ImportPlan:
    return analyse(read_file(stored.content, suffix=stored.suffix), channel=stored.channel)


@transaction.atomic
def lead_import(*, stored: StoredImport, by: User) -> ImportResult:
    """Import a previewed file (线索导入), all or nothing: every row is validated again, the
    identity keys of the whole file are locked, duplicates are resolved against what is in
    the database now, and the leads and touches are written in this one transaction. A file
    with any invalid row imports nothing (ValidationError with the row errors). The pending
    upload is deleted in the same transaction: gone once the import commits, kept if it fails;
    an upload already imported (or purged) is a 404."""
    if not can_import(by):
        raise PermissionDenied(_("You cannot import leads."))
    # Claim the upload first: the DELETE locks its row until this transaction ends, so a second
    # confirmation of the same file (a double click, another web machine) waits here and then
    # finds it gone instead of importing the file twice; a failed import rolls the DELETE back
    # and the upload stays for another try.
    if stored.user_id != by.pk or not import_discard(stored):
        raise Http404
    plan = validate_rows(read_file(stored.content, suffix=stored.suffix), channel=stored.channel)
    if plan.file.error:
        raise ValidationError(plan.file.error, code="file")
    if plan.errors:
        raise ValidationError(
            _("%(count)d rows are not valid; nothing was imported.")
            % {"count": plan.invalid_count},
            code="invalid_rows",
        )
    _lock_imports()
    resolve_duplicates(plan)
    with history_context(action="lead_import", file=stored.name):
        return import_plan(plan=plan, by=by)


# --- the template --------------------------------------------------------------------------


def template_workbook() -> bytes:
    """An empty .xlsx with the expected headers (Chinese when the UI is Chinese) and a sheet
    listing the accepted values of the choice columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    chinese = (translation.get_language() or "").startswith("zh")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "leads"
    for column, name in enumerate(LEAD_DATA_FIELDS, start=1):
        aliases = HEADER_ALIASES[name]
        cell = sheet.cell(row=1, column=column, value=aliases[0] if chinese else aliases[1])
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 22
    sheet.freeze_panes = "A2"
    values = workbook.create_sheet(_("Accepted values"))
    values.append([_("Column"), _("Value")])
    for name in _CHOICE_FIELDS:
        header = HEADER_ALIASES[name][0 if chinese else 1]
        for _value, label in Lead._meta.get_field(name).choices:
            values.append([header, str(label)])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
