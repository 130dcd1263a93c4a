"""Target pages (目标): the list (filters by htmx, 50 a page without a COUNT), a new target, the
detail with its parts, what is left to allocate, its versions, the split form (direction,
method, by hand an input per part prefilled with the even split) and the amount form.

Thin: `selectors` read (a target outside the scope is a 404), `targets` writes; a refused
input is a form error on the page (400) and nothing changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.customers.views import paginate

from . import selectors, targets
from .choices import SplitMethod, TargetStatus
from .forms_targets import (
    TargetAmountForm,
    TargetCreateForm,
    TargetDecomposeForm,
    TargetFilterForm,
)
from .models import Target
from .targets import ONE, Direction


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


def _decorate(target: Target) -> Target:
    """Labels a row shows, computed once (no query: scope and unit are select_related)."""
    target.period_label = targets.period_label(target)
    target.scope_label = targets.scope_name(target)
    target.money = targets.is_money(target.metric)
    return target


def _apply_errors(form: Any, exc: ValidationError, *, to_field: dict[str, str] | None = None):
    to_field = to_field or {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            name = to_field.get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def target_list(request: HttpRequest) -> HttpResponse:
    """The targets in the caller's scope, newest period first; htmx gets the rows only."""
    form = TargetFilterForm(request.GET or None)
    filters = form.filters()
    page = paginate(selectors.target_list(user=request.user, **filters), request.GET.get("page"))
    for row in page.object_list:
        _decorate(row)
    context = {
        "form": form,
        "filtered": any(filters.values()),
        "page": page,
        "results_id": "target-results",
        "can_create": targets.may_set_any_target(request.user),
    }
    template = "goals/_target_results.html" if _partial(request) else "goals/target_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def target_create(request: HttpRequest) -> HttpResponse:
    """Set a new target (admins, and supervisors/managers for what they head)."""
    if not targets.may_set_any_target(request.user):
        raise PermissionDenied(_("You may not set targets."))
    form = TargetCreateForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = targets.target_create(
                    by=request.user, metric=data["metric"], period_kind=data["period_kind"],
                    day_in_period_or_start=data["day"], scope_kind=data["scope_kind"],
                    org_unit=data.get("org_unit"), user=data.get("user"), amount=data["amount"],
                    reason=data.get("reason", ""),
                )  # fmt: skip
            except ValidationError as exc:
                _apply_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Target set."))
                return redirect(target)
        return render(request, "goals/target_form.html", {"form": form}, status=400)
    return render(request, "goals/target_form.html", {"form": form})


def _decompose_form(
    request: HttpRequest, target: Target, directions: list[str], data: Any = None
) -> TargetDecomposeForm:
    """The split form for the direction asked (POST, or ?direction= on the page), with an
    input per part prefilled by the existing split or else the even split."""
    source = data if data is not None else request.GET
    direction = source.get("direction") or (directions[0] if directions else "")
    method = source.get("method") or SplitMethod.EVEN
    specs, prefill = [], []
    if direction in directions:
        try:
            specs = targets.child_specs(target, direction)
        except ValidationError:
            specs = []
        if specs:
            current = {
                targets.child_key(target, child): child.amount
                for child in target.children.all()
                if targets.direction_of(target, child) == direction
            }
            try:
                even = targets.even_amounts(target, specs)
            except ValueError:  # an amount not in whole steps (typed before the rule)
                even = [Decimal("0")] * len(specs)
            prefill = [current.get(spec.key, even[i]) for i, spec in enumerate(specs)]
    money = targets.is_money(target.metric)
    if not money:
        prefill = [amount.quantize(ONE) for amount in prefill]
    initial = {"direction": direction, "method": method}
    return TargetDecomposeForm(
        data, directions=directions, specs=specs, prefill=prefill,
        decimals=2 if money else 0, initial=initial,
    )  # fmt: skip


def _detail_context(
    request: HttpRequest,
    target: Target,
    *,
    decompose_form: TargetDecomposeForm | None = None,
    amount_form: TargetAmountForm | None = None,
) -> dict[str, Any]:
    user = request.user
    _decorate(target)
    allocation = targets.left_to_allocate(target)
    for child in allocation.children:
        _decorate(child)
        child.share = (child.amount / target.amount * 100) if target.amount else None
    can_set = targets.can_set_target(user, target)
    directions = targets.available_directions(target) if can_set else []
    if can_set and target.status != TargetStatus.CLOSED:
        decompose_form = decompose_form or _decompose_form(request, target, directions)
        amount_form = amount_form or TargetAmountForm(initial={"amount": target.amount})
    else:
        decompose_form = amount_form = None
    room = None
    if target.parent_id is not None:
        siblings = target.parent.children.exclude(pk=target.pk)
        allocated = sum((t.amount for t in siblings.only("amount")), Decimal("0"))
        room = target.parent.amount - allocated
    parent_visible = selectors.target_is_visible(user=user, pk=target.parent_id)
    if parent_visible:
        _decorate(target.parent)
    may_adjust = user.pk == target.user_id or (
        target.org_unit_id is not None and target.org_unit.head_id == user.pk
    )
    return {
        "target": target,
        "allocation": allocation,
        "versions": list(selectors.target_versions(target)),
        "can_set": can_set,
        "decompose_form": decompose_form,
        "amount_form": amount_form,
        "parent_visible": parent_visible,
        "room": room,
        "may_adjust": may_adjust,
        "direction_label": Direction(allocation.direction).label if allocation.direction else "",
    }


@login_required
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.target_get(user=request.user, pk=pk)
    return render(request, "goals/target_detail.html", _detail_context(request, target))


def _refused(request: HttpRequest, target: Target, **forms: Any) -> HttpResponse:
    context = _detail_context(request, selectors.target_get(user=request.user, pk=target.pk),
                              **forms)  # fmt: skip
    return render(request, "goals/target_detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def target_decompose(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: split the target. GET (htmx, when the direction or method changes): the form for
    that choice; without htmx, the page with it."""
    target = selectors.target_get(user=request.user, pk=pk)
    if not targets.can_set_target(request.user, target):
        raise PermissionDenied(_("You may not split this target."))
    directions = targets.available_directions(target)
    if request.method == "GET":
        if not _partial(request):
            query = urlencode({k: request.GET.get(k, "") for k in ("direction", "method")})
            return redirect(f"{target.get_absolute_url()}?{query}#decompose")
        form = _decompose_form(request, target, directions)
        return render(request, "goals/_target_decompose_form.html",
                      {"target": target, "decompose_form": form})  # fmt: skip
    form = _decompose_form(request, target, directions, data=request.POST)
    if form.is_valid():
        data = form.cleaned_data
        manual = form.manual() if data["method"] == SplitMethod.MANUAL else None
        try:
            children = targets.target_decompose(
                target=target, by=request.user, direction=data["direction"],
                method=data["method"], manual=manual,
            )  # fmt: skip
        except ValidationError as exc:
            # "manual" names what is left or over: shown above the parts.
            _apply_errors(form, exc, to_field={"manual": "__all__"})
        except (PermissionDenied, Conflict) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Target split into %(count)s parts.") % {"count": len(children)}
            )
            return redirect(target)
    return _refused(request, target, decompose_form=form)


@login_required
@require_POST
def target_set_amount(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the amount (a new version with the reason)."""
    target = selectors.target_get(user=request.user, pk=pk)
    if not targets.can_set_target(request.user, target):
        raise PermissionDenied(_("You may not change this target."))
    form = TargetAmountForm(request.POST)
    if form.is_valid():
        try:
            targets.target_set_amount(
                target=target, by=request.user, amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except ValidationError as exc:
            _apply_errors(form, exc)
        except (PermissionDenied, Conflict) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Target changed."))
            return redirect(reverse("goals:target_detail", args=[target.pk]))
    return _refused(request, target, amount_form=form)
