"""The shell's pages: home per role, health check, error pages."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from apps.accounts import selectors as account_selectors
from apps.accounts.choices import OrgUnitKind, Role
from apps.accounts.scope import Scope, scope_of
from apps.core import dashboards
from apps.core.selectors import worker_heartbeat_last

# --- Home ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One card of a home page.

    A panel whose module is not installed yet shows an empty state naming the module; a panel
    with a `template` renders it (with the home page's context) as its body. A panel with
    `data` names the function of `apps.core.dashboards` that returns its context, given to
    its template as `data`.
    """

    key: str
    title: str | Promise
    icon: str
    module: str | Promise = ""
    template: str = ""
    wide: bool = False
    data: str = ""


def _panel(key: str, title: str | Promise, icon: str, data: str, **kwargs) -> Panel:
    """A dashboard panel: its template is core/panels/<data>.html."""
    return Panel(key, title, icon, template=f"core/panels/{data}.html", data=data, **kwargs)


APPROVALS_WAITING = Panel(
    "approvals-waiting",
    _("Waiting for my approval"),
    "check2-square",
    template="approvals/panels/waiting.html",
)
HOME_APPROVALS_SHOWN = 5

TEAM_VISITS = _panel("team-visits-today", _("Team visits today"), "geo-alt", "team_visits_today")
TEAM_FUNNEL = _panel("team-funnel", _("Team funnel"), "funnel", "team_funnel")
LARGE_CONTRACTS = _panel(
    "large-contracts", _("Large contracts pending"), "file-earmark-text", "large_contracts"
)

HOME_PAGES: dict[str, tuple[str | Promise, list[Panel]]] = {
    Role.REP: (
        _("My workspace"),
        [
            # The route first: on a phone it is what a rep opens the page for.
            _panel(
                "today-visits", _("Today's visit route"), "calendar-check", "today_route", wide=True
            ),
            _panel(
                "leads-follow-up",
                _("My leads to follow up"),
                "person-lines-fill",
                "leads_follow_up",
            ),
            _panel("my-opportunities", _("My opportunities"), "briefcase", "my_opportunities"),
            _panel("receivables-due", _("My receivables due"), "cash-coin", "receivables_due"),
            _panel("my-attainment", _("My target attainment"), "bullseye", "my_attainment"),
        ],
    ),
    Role.SUPERVISOR: (
        _("Team workspace"),
        [
            APPROVALS_WAITING,
            TEAM_VISITS,
            _panel("team-attainment", _("Team attainment"), "graph-up-arrow", "team_attainment"),
            TEAM_FUNNEL,
            _panel(
                "team-overdue",
                _("Overdue receivables of the team"),
                "exclamation-triangle",
                "team_overdue",
            ),
            LARGE_CONTRACTS,
        ],
    ),
    Role.MANAGER: (
        _("Department workspace"),
        [
            APPROVALS_WAITING,
            _panel(
                "attainment-by-team", _("Attainment by team"), "bar-chart-line", "team_attainment"
            ),
            TEAM_FUNNEL,
            _panel("aging", _("Overdue receivables by age"), "hourglass-split", "team_overdue"),
            LARGE_CONTRACTS,
            TEAM_VISITS,
        ],
    ),
    Role.FINANCE: (
        _("Finance workspace"),
        [
            APPROVALS_WAITING,  # finance approves credit limits and write-offs (seed 004)
            _panel("due-this-week", _("Due this week"), "calendar-week", "due_this_week"),
            _panel(
                "overdue-installments",
                _("Overdue installments"),
                "calendar-x",
                "overdue_installments",
            ),
            _panel(
                "payments-to-allocate", _("Payments to allocate"), "wallet2", "payments_to_allocate"
            ),
            _panel("credit-holds", _("Customers on credit hold"), "shield-lock", "credit_holds"),
            _panel(
                "collection-rate", _("Collection rate this month"), "percent", "collection_rate"
            ),
        ],
    ),
    Role.ADMIN: (
        _("Administration"),
        [
            Panel(
                "org-summary",
                _("Organisation summary"),
                "diagram-3",
                template="core/panels/org_summary.html",
                wide=True,
            ),
            Panel(
                "admin-links",
                _("Administration"),
                "tools",
                template="core/panels/admin_links.html",
            ),
            _panel("api-tokens", _("API tokens"), "key", "api_tokens"),
            _panel("approval-policies", _("Approval policies"), "diagram-2", "approval_policies"),
        ],
    ),
    Role.INTEGRATION: (
        _("Integration account"),
        [
            Panel(
                "api-access",
                _("API access"),
                "braces",
                template="core/panels/api_access.html",
                wide=True,
            ),
        ],
    ),
}

SCOPE_LABELS = {
    Scope.OWN: _("Own records"),
    Scope.SUBTREE: _("Own and subordinates' records"),
    Scope.ALL: _("Whole company"),
    Scope.NONE: _("None"),
}


def _scope_label(user) -> Promise:
    scope = scope_of(user)
    if scope is not Scope.ALL and scope_of(user, money=True) is Scope.ALL:
        return _("All money documents")  # finance (DESIGN.md "Data scope")
    return SCOPE_LABELS[scope]


def business_now():
    """Now in the business time zone (DESIGN.md "Time"), whatever zone is active."""
    tz = ZoneInfo(getattr(settings, "BUSINESS_TIME_ZONE", settings.TIME_ZONE))
    return timezone.localtime(timezone.now(), tz)


def _greeting(hour: int) -> Promise:
    if hour < 12:
        return _("Good morning")
    if hour < 18:
        return _("Good afternoon")
    return _("Good evening")


def _reverse_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _org_summary(user) -> dict:
    """Real counts for the admin's home: users by role and org units by kind (two queries)."""
    by_role = {
        row["role"]: row
        for row in account_selectors.user_list(user=user)
        .order_by()
        .values("role")
        .annotate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    }
    roles = [
        {
            "role": value,
            "label": label,
            "total": by_role.get(value, {}).get("total", 0),
            "active": by_role.get(value, {}).get("active", 0),
        }
        for value, label in Role.choices
    ]
    by_kind = dict(
        account_selectors.org_unit_list(user=user)
        .filter(is_active=True)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    kinds = [
        {"kind": v, "label": label, "total": by_kind.get(v, 0)} for v, label in OrgUnitKind.choices
    ]
    active_users = sum(r["active"] for r in roles)
    peak = max((r["active"] for r in roles), default=0) or 1
    for r in roles:
        r["share"] = round(100 * r["active"] / peak)
    return {
        "roles": roles,
        "kinds": kinds,
        "active_users": active_users,
        "inactive_users": sum(r["total"] for r in roles) - active_users,
        "units": sum(k["total"] for k in kinds),
    }


def _admin_links(user) -> list[dict]:
    links = [
        {"label": _("Users"), "icon": "people", "url": _reverse_or_none("accounts:user_list")},
        {"label": _("Organisation"), "icon": "diagram-3", "url": _reverse_or_none("accounts:org")},
    ]
    if user.is_staff:
        links += [
            {
                "label": _("Manage users (admin site)"),
                "icon": "person-gear",
                "url": _reverse_or_none("admin:accounts_user_changelist"),
            },
            {
                "label": _("Manage org units (admin site)"),
                "icon": "diagram-3-fill",
                "url": _reverse_or_none("admin:accounts_orgunit_changelist"),
            },
            {"label": _("Admin site"), "icon": "gear", "url": _reverse_or_none("admin:index")},
        ]
    return [link for link in links if link["url"]]


def _approvals_waiting(user) -> dict:
    """The oldest tasks waiting for the user (待我审批) and how many there are (two queries)."""
    from apps.approvals.selectors import approval_inbox

    tasks = approval_inbox(user=user).select_related("request__policy")
    shown = list(tasks[:HOME_APPROVALS_SHOWN])
    count = len(shown) if len(shown) < HOME_APPROVALS_SHOWN else tasks.count()
    return {"tasks": shown, "count": count, "now": timezone.now()}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The role's workspace (工作台): a greeting and the panels that role looks at every day."""
    user = request.user
    role = Role.ADMIN if user.is_superuser and user.role not in HOME_PAGES else user.role
    heading, panels = HOME_PAGES.get(role, HOME_PAGES[Role.REP])
    now = business_now()
    context = {
        "role": role,
        "heading": heading,
        # Each panel with the context of its dashboard function (a constant number of
        # queries each, `apps.core.dashboards`); a failing panel fails the page, loudly.
        "panels": [
            (panel, getattr(dashboards, panel.data)(user=user, now=now) if panel.data else None)
            for panel in panels
        ],
        "first_wide": panels[0].wide,
        "now": now,
        "today": now.date(),
        "greeting": _greeting(now.hour),
        "scope_label": _scope_label(user),
    }
    if APPROVALS_WAITING in panels:
        context["approvals_waiting"] = _approvals_waiting(user)
    if role == Role.ADMIN:
        context["summary"] = _org_summary(user)
        context["admin_links"] = _admin_links(user)
    if role in (Role.ADMIN, Role.INTEGRATION):
        context["api_docs_url"] = _reverse_or_none("api:docs")
    return render(request, "core/home.html", context)


# --- Health ----------------------------------------------------------------------------------


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: answers 200 when Postgres and Redis both answer, else 503."""
    import redis

    checks = {}
    worker = None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
        # Informational: when a Celery worker last ran the heartbeat job (beat, every minute).
        last = worker_heartbeat_last()
        worker = last.seen_at.isoformat() if last else None
    except Exception as exc:  # a health check reports, it never raises
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks, "worker_last_seen": worker},
        status=200 if healthy else 503,
    )


# --- Errors ----------------------------------------------------------------------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, template: str) -> HttpResponse:
    # The API never answers with an HTML error page (API.md "Errors").
    if _is_api(request):
        from apps.api.problems import problem_response

        return problem_response(request, status)
    return render(request, template, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "400.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "403.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _error(request, 500, "500.html")
    # Rendered without the request: no context processor may touch the database (which may be
    # the reason for the error) and nothing else may fail while reporting a failure.
    return HttpResponseServerError(loader.get_template("500.html").render())
