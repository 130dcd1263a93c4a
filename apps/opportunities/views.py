"""Deal pages: the list (server-side search, filters, paging without a COUNT), the detail with
its stage stepper, moves and stage history, the create/edit forms, and the pipeline board
(看板) whose drag and drop posts to the same transition view as the detail's buttons.

Thin: selectors read, services write. A refused move is a message (or, for the board's
`fetch`, a JSON answer naming the missing input), never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.core.fsm import unmet_conditions
from apps.customers.selectors import customer_editable_q
from apps.customers.views import paginate

from . import selectors, services
from .choices import CLOSED_STAGES, OPEN_STAGES, Stage, next_stage, previous_stage
from .forms import BoardFilterForm, OpportunityForm
from .models import Opportunity
from .permissions import FORWARD, INPUT_CONDITIONS, available_transitions, can_work
from .selectors import OpportunityFilters

TRANSITION_LABELS = {
    "qualify": gettext_lazy("Qualify"),
    "analyse_needs": gettext_lazy("Start needs analysis"),
    "propose": gettext_lazy("Move to proposal"),
    "negotiate": gettext_lazy("Move to negotiation"),
    "win": gettext_lazy("Mark as won"),
    "lose": gettext_lazy("Mark as lost"),
    "move_back": gettext_lazy("Move back a stage"),
}
# Which inputs a move takes from the request (the rest come from the deal).
TRANSITION_INPUTS = {
    "propose": ("needs_analysis",),
    "lose": ("lost_reason", "lost_competitor"),
    "move_back": ("reason",),
}


def _filters(request: HttpRequest) -> tuple[BoardFilterForm, OpportunityFilters]:
    form = BoardFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    return form, OpportunityFilters(
        search=(data.get("q") or "").strip(),
        stage=data.get("stage", ""),
        owner=data.get("owner"),
        team=data.get("team"),
        close_month=form.close_month(),
        state=data.get("state", ""),
        stuck=bool(data.get("stuck")),
    )


def _choices(request: HttpRequest) -> dict[str, Any]:
    return {
        "owners": selectors.owner_choices(user=request.user),
        "teams": selectors.team_choices(user=request.user),
    }


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """Deals in the caller's scope, newest change first, 50 a page; htmx gets the rows only."""
    form, filters = _filters(request)
    page = paginate(selectors.opportunity_list(user=request.user, filters=filters),
                    request.GET.get("page"))  # fmt: skip
    context = {
        "page": page,
        "form": form,
        "filters": filters,
        "month": form.data.get("month", "") if form.is_bound else "",
        "results_id": "opportunity-results",
        "stages": Stage.choices,
        "stage_settings": selectors.stage_settings(),
        **_choices(request),
    }
    template = "opportunities/_results.html" if _partial(request) else "opportunities/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _stepper(opportunity: Opportunity) -> list[dict[str, Any]]:
    """The stage stepper: each open stage done / current / to do, then the closed outcome."""
    steps = []
    current = opportunity.stage
    reached = OPEN_STAGES.index(current) if current in OPEN_STAGES else len(OPEN_STAGES)
    for index, stage in enumerate(OPEN_STAGES):
        state = "done" if index < reached else ("current" if index == reached else "todo")
        steps.append({"stage": stage, "label": stage.label, "state": state})
    final = Stage(current) if current in CLOSED_STAGES else Stage.WON
    steps.append({"stage": final, "label": final.label,
                  "state": "current" if current in CLOSED_STAGES else "todo"})  # fmt: skip
    return steps


def _missing_for_next(opportunity: Opportunity) -> list[str]:
    """What the next forward move still needs (a checklist on the page, before clicking)."""
    for name in FORWARD:
        method = getattr(opportunity, name)
        if method._django_fsm.has_transition(opportunity.stage):
            return [str(c.message) for c in unmet_conditions(opportunity, method)
                    if c not in INPUT_CONDITIONS and getattr(c, "field", None) is None]  # fmt: skip
    return []


def _quote_create_url(opportunity: Opportunity) -> str | None:
    try:
        return reverse("opportunities:quote_create", args=[opportunity.pk])
    except NoReverseMatch:
        return None


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(user=request.user, pk=pk)
    workable = can_work(request.user, opportunity)
    moves = available_transitions(request.user, opportunity, workable=workable)
    settings_by_stage = selectors.stage_settings()
    quotes = list(opportunity.quotes.order_by("-version", "-id")[:20])
    visits = list(opportunity.visit_records.order_by("-started_at", "-id")[:20])
    context = {
        "opportunity": opportunity,
        "moves": [
            (name, TRANSITION_LABELS[name], TRANSITION_INPUTS.get(name, ())) for name in moves
        ],
        "missing": _missing_for_next(opportunity) if moves else [],
        "next_stage": next_stage(opportunity.stage),
        "previous_stage": previous_stage(opportunity.stage),
        "steps": _stepper(opportunity),
        "history": selectors.stage_history(opportunity=opportunity),
        "quotes": quotes,
        "visits": visits,
        "quote_create_url": _quote_create_url(opportunity) if workable else None,
        "can_edit": workable and opportunity.is_open,
        "stuck": selectors.is_stuck(opportunity, settings_by_stage),
    }
    return render(request, "opportunities/detail.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _inputs(request: HttpRequest, transition: str) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in TRANSITION_INPUTS.get(transition, ())}


@login_required
@require_POST
def opportunity_transition(request: HttpRequest, pk: int, transition: str) -> HttpResponse:
    """One stage move, from the detail's buttons or the board. The board asks for JSON: 200
    with the new stage; 400 with `errors` by field (the input to ask for); 409 with the
    message, and for unmet requirements of the deal's state `errors["__all__"]` listing them;
    403 with the message."""
    service = services.TRANSITION_SERVICES.get(transition)
    if service is None:
        raise Http404
    opportunity = selectors.opportunity_get(user=request.user, pk=pk)  # 404 outside the scope
    try:
        opportunity = service(opportunity=opportunity, by=request.user,
                              **_inputs(request, transition))  # fmt: skip
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        if _wants_json(request):
            return JsonResponse({"ok": False, "errors": errors}, status=400)
        messages.error(request, " ".join(m for ms in errors.values() for m in ms))
    except (Conflict, PermissionDenied) as exc:
        code = 409 if isinstance(exc, Conflict) else 403
        if _wants_json(request):
            body = {"ok": False, "message": str(exc)}
            if getattr(exc, "code", "") == "guard_failed":
                body["errors"] = {"__all__": exc.messages}  # the board lists them in place
            return JsonResponse(body, status=code)
        messages.error(request, str(exc))
    else:
        done = _("%(name)s is now in the stage “%(stage)s”.") % {
            "name": opportunity.name, "stage": opportunity.get_stage_display()}  # fmt: skip
        if _wants_json(request):
            return JsonResponse({"ok": True, "stage": opportunity.stage, "message": done})
        messages.success(request, done)
    target = request.POST.get("next", "") if _safe_next(request) else ""
    return redirect(target or opportunity.get_absolute_url())


def _safe_next(request: HttpRequest) -> bool:
    nxt = request.POST.get("next", "")
    return nxt.startswith("/") and not nxt.startswith("//")


def _form_page(request: HttpRequest, form: OpportunityForm, *, opportunity: Opportunity | None,
               customer=None, status: int = 200) -> HttpResponse:  # fmt: skip
    context = {"form": form, "opportunity": opportunity, "customer": customer}
    return render(request, "opportunities/form.html", context, status=status)


def _apply_errors(form: OpportunityForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _editable_customer(request: HttpRequest, raw: Any):
    from apps.customers.models import Customer

    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return Customer.objects.filter(customer_editable_q(request.user), pk=pk).first()


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_create(request: HttpRequest) -> HttpResponse:
    """Open a deal: pick the customer (search as you type), then the data."""
    raw = request.POST.get("customer") if request.method == "POST" else request.GET.get("customer")
    customer = _editable_customer(request, raw) if raw else None
    form = OpportunityForm(request.POST or None, customer=customer, creating=True,
                           initial={"customer": customer.pk} if customer else None)  # fmt: skip
    if request.method == "POST":
        if raw and customer is None:
            form.add_error("customer", _("Choose one of your customers."))
        if form.is_valid() and customer is not None:
            try:
                opportunity = services.opportunity_open(
                    customer=customer, by=request.user, data=form.service_data()
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Deal opened."))
                return redirect(opportunity)
        return _form_page(request, form, opportunity=None, customer=customer, status=400)
    return _form_page(request, form, opportunity=None, customer=customer)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(user=request.user, pk=pk)
    if not can_work(request.user, opportunity):
        raise PermissionDenied(_("You cannot change this deal."))
    if not opportunity.is_open:
        messages.error(request, _("A won or lost deal cannot be changed."))
        return redirect(opportunity)
    initial = {name: getattr(opportunity, name) for name in services.EDITABLE_FIELDS}
    form = OpportunityForm(request.POST or None, customer=opportunity.customer, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.opportunity_update(
                    opportunity=opportunity, by=request.user, data=form.service_data()
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Deal saved."))
                return redirect(opportunity)
        return _form_page(request, form, opportunity=opportunity,
                          customer=opportunity.customer, status=400)  # fmt: skip
    return _form_page(request, form, opportunity=opportunity, customer=opportunity.customer)


@login_required
def customer_search(request: HttpRequest) -> HttpResponse:
    """The customer picker of the deal form: up to 20 of the caller's customers by name."""
    term = request.GET.get("q", "")
    context = {"customers": selectors.customer_choices(user=request.user, search=term),
               "term": term.strip()}  # fmt: skip
    return render(request, "opportunities/_customer_options.html", context)


# --- the board -------------------------------------------------------------------------------


# The board page shows the first cards of each column (the rest behind "N more"); the API's
# board keeps its own default and a `per_stage` parameter.
BOARD_PAGE_CARDS = 25


def _prepare_cards(board: selectors.Board) -> None:
    """What each card shows, formatted once here rather than by template tags per card (a
    board is a couple of hundred cards: `{% url %}`, `intcomma` and `blocktranslate` per card
    were most of the page's time)."""
    detail = reverse("opportunities:detail", args=[0])
    forward = dict(zip(OPEN_STAGES, FORWARD, strict=False))
    move_label = _("Move %(name)s")
    now = timezone.now()
    for column in board.columns:
        for card in column.cards:
            card.url = detail.replace("/0/", f"/{card.pk}/", 1)
            card.amount_text = number_format(card.amount, 2, force_grouping=True)
            card.close_text = (
                date_format(card.expected_close_date, "SHORT_DATE_FORMAT")
                if card.expected_close_date
                else ""
            )
            card.owner_name = card.owner.display_name if card.owner_id else ""
            card.move_aria = move_label % {"name": card.name}
            move = forward.get(card.stage)
            card.forward = (move, TRANSITION_LABELS[move]) if move else None
            card.can_move_back = card.stage != OPEN_STAGES[0]
            card.is_stuck = selectors.is_stuck(card, board.settings, now=now)


@login_required
def opportunity_board(request: HttpRequest) -> HttpResponse:
    """The pipeline board (看板): a column per open stage with its totals; won and lost this
    month; filters owner / team / close month. htmx (or the board's script after a move)
    gets the columns only."""
    form, filters = _filters(request)
    board = selectors.board(user=request.user, filters=filters, per_stage=BOARD_PAGE_CARDS)
    _prepare_cards(board)
    context = {
        "board": board,
        "form": form,
        "filters": filters,
        "month": form.data.get("month", "") if form.is_bound else "",
        "transition_url": reverse("opportunities:transition", args=[0, "__move__"]),
        "move_labels": TRANSITION_LABELS,
        "stuck_label": _("Stuck"),
        **_choices(request),
    }
    template = "opportunities/_board.html" if _partial(request) else "opportunities/board.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
