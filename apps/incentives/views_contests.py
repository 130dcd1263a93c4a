"""Pages of the sales contests (销售竞赛): the list (running / upcoming / ended), a contest with
its leaderboard (a bar chart drawn as SVG and the table, refreshed by htmx every minute while
it runs; the viewer's own row highlighted), and the form to set or change one.

Thin: the selectors (`selectors_contests`) read, the services (`contests`) write. A contest
outside the viewer's scope is a 404; a refused change a message or a form error, never a 500.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import Conflict

from . import contests
from . import selectors_contests as selectors
from .forms_contests import STATE_CHOICES, ContestFilterForm, ContestForm
from .models import Contest

PER_PAGE = 25
CHART_BARS = 20  # the chart shows the first 20 rows; the table has them all
REFRESH_SECONDS = 60

# The SVG bar chart's geometry (viewBox units).
CHART_WIDTH = 800
LABEL_WIDTH = 170
VALUE_WIDTH = 110
BAR_HEIGHT = 18
ROW_HEIGHT = 28


def _htmx_partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request


@login_required
@require_GET
def contest_list(request: HttpRequest) -> HttpResponse:
    """The contests the user may see, by state; a page at a time (one row more than a page
    tells whether there is a next one)."""
    form = ContestFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    state = (form.cleaned_data.get("state") or "") if valid and request.GET else ""
    today = timezone.localdate()
    qs = selectors.contest_list(user=request.user, state=state, today=today)
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    rows = list(qs[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "contests": [(c, selectors.contest_state(c, today)) for c in rows[:PER_PAGE]],
        "state": state,
        "states": STATE_CHOICES,
        "counts": selectors.contest_counts(user=request.user, today=today),
        "can_create": selectors.can_create_contest(request.user),
        "page_number": number,
        "has_next": len(rows) > PER_PAGE,
        "query": query.urlencode(),
    }
    template = (
        "incentives/contests/_results.html"
        if _htmx_partial(request)
        else "incentives/contests/list.html"
    )
    response = render(request, template, context, status=200 if valid else 400)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _chart(board: selectors.Leaderboard, viewer_id: int) -> dict[str, Any] | None:
    """SVG geometry of the leaderboard's bar chart (the first `CHART_BARS` rows), on the scale
    of the highest value."""
    rows = board.rows[:CHART_BARS]
    if not rows or not board.top:
        return None  # nothing done yet: the table says it, an empty chart says nothing
    top = board.top or Decimal(1)
    inner = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, row in enumerate(rows):
        y = index * ROW_HEIGHT
        width = float(max(row.value, Decimal(0)) / top) * inner if board.top else 0.0
        bars.append({
            "row": row,
            "mine": row.user_id == viewer_id,
            "y": f"{y + (ROW_HEIGHT - BAR_HEIGHT) / 2:.1f}",
            "text_y": f"{y + ROW_HEIGHT / 2 + 4:.1f}",
            "width": f"{width:.1f}",
            "value_x": f"{LABEL_WIDTH + width + 6:.1f}",
        })  # fmt: skip
    return {
        "width": CHART_WIDTH,
        "height": ROW_HEIGHT * len(rows),
        "label_x": LABEL_WIDTH - 8,
        "bar_x": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "bars": bars,
    }


def _board_context(request: HttpRequest, contest: Contest) -> dict[str, Any]:
    today = timezone.localdate()
    board = selectors.leaderboard(contest, today=today)
    mine = board.row_of(request.user.pk)
    return {
        "contest": contest,
        "board": board,
        "chart": _chart(board, request.user.pk),
        "mine": mine,
        "live": not board.final and board.state == selectors.RUNNING,
        "refresh_seconds": REFRESH_SECONDS,
        "now": timezone.now(),
    }


@login_required
@require_GET
def contest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk)
    context = _board_context(request, contest)
    context["can_change"] = context[
        "board"
    ].state == selectors.UPCOMING and selectors.can_change_contest(request.user, contest)
    context["units"] = list(contest.units.all())
    return render(request, "incentives/contests/detail.html", context)


@login_required
@require_GET
def contest_leaderboard(request: HttpRequest, pk: int) -> HttpResponse:
    """The leaderboard alone: what htmx fetches every minute while the contest runs."""
    contest = selectors.contest_get(user=request.user, pk=pk)
    response = render(
        request, "incentives/contests/_leaderboard.html", _board_context(request, contest)
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


def _apply_errors(form: ContestForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _save(request: HttpRequest, form: ContestForm, contest: Contest | None) -> Contest | None:
    data = form.cleaned_data
    values = {
        "by": request.user, "name": data["name"], "description": data["description"],
        "metric": data["metric"], "starts_on": data["starts_on"], "ends_on": data["ends_on"],
        "units": data["units"],
    }  # fmt: skip
    try:
        if contest is None:
            return contests.contest_create(**values)
        return contests.contest_update(contest=contest, **values)
    except ValidationError as exc:
        _apply_errors(form, exc)
    except (PermissionDenied, Conflict) as exc:
        form.add_error(None, str(exc))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def contest_create(request: HttpRequest) -> HttpResponse:
    if not selectors.can_create_contest(request.user):
        raise PermissionDenied(_("Only an administrator or a sales manager can set a contest."))
    form = ContestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        contest = _save(request, form, None)
        if contest is not None:
            messages.success(request, _("Contest set."))
            return redirect(contest)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "contest": None}
    return render(request, "incentives/contests/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contest_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk)
    if not selectors.can_change_contest(request.user, contest):
        raise PermissionDenied(_("You cannot change this contest."))
    if selectors.contest_state(contest, timezone.localdate()) != selectors.UPCOMING:
        messages.error(request, _("A contest cannot be changed once it has started."))
        return redirect(contest)
    initial = {
        "name": contest.name, "description": contest.description, "metric": contest.metric,
        "starts_on": contest.starts_on, "ends_on": contest.ends_on,
        "units": [unit.pk for unit in contest.units.all()],
    }  # fmt: skip
    form = ContestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, contest)
        if saved is not None:
            messages.success(request, _("Contest saved."))
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "contest": contest}
    return render(request, "incentives/contests/form.html", context, status=status)
