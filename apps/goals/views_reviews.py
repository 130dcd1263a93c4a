"""Pages of the period reviews (目标考核评估, seed 004 flow 1 steps 8–12). Thin: the selectors
(`selectors_reviews`) read, the services (`closing`) write; the approval panel submits,
approves and returns; a refused action is a message on the page, never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import Conflict

from . import closing
from . import selectors_reviews as selectors
from .choices import PeriodKind, ReviewStatus
from .forms_reviews import ReviewFilterForm, ReviewForm
from .models import PeriodReview

PER_PAGE = 50


def _htmx_partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    """The reviews the user may see, newest first; filters: period kind, status. No COUNT(*):
    one row more than a page tells whether there is a next one."""
    form = ReviewFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.ReviewFilters(
        period_kind=data.get("period_kind") or "", status=data.get("status") or ""
    )
    qs = selectors.review_list(user=request.user, filters=filters)
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    rows = list(qs[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "reviews": [(review, selectors.review_period_label(review)) for review in rows[:PER_PAGE]],
        "filters": filters,
        "period_kinds": PeriodKind.choices,
        "statuses": ReviewStatus.choices,
        "page_number": number,
        "has_next": len(rows) > PER_PAGE,
        "query": query.urlencode(),
    }
    template = "goals/_review_results.html" if _htmx_partial(request) else "goals/review_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _detail_context(
    request: HttpRequest, review: PeriodReview, form: ReviewForm | None = None
) -> dict:
    user = request.user
    editable = closing.can_edit_review(user, review)
    if editable and form is None:
        form = ReviewForm(
            initial={"summary": review.summary, "corrections": review.corrections},
            with_corrections=bool(review.return_comment),
        )
    return {
        "review": review,
        "period_label": selectors.review_period_label(review),
        "metrics": selectors.review_figures(review),
        "form": form if editable else None,
        "can_publish": review.status == ReviewStatus.APPROVED
        and closing.can_publish_review(user, review),
        "returned": review.status == ReviewStatus.OPEN and bool(review.return_comment),
    }


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(user=request.user, pk=pk)
    return render(request, "goals/review_detail.html", _detail_context(request, review))


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, str(exc))


@login_required
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The head saves the summary (and corrections); "save and submit" also submits it."""
    review = selectors.review_get(user=request.user, pk=pk)
    if request.method == "GET":
        return redirect(review)
    form = ReviewForm(request.POST, with_corrections=bool(review.return_comment))
    if not form.is_valid():
        context = _detail_context(request, review, form)
        return render(request, "goals/review_detail.html", context, status=400)
    try:
        review = closing.review_update(
            review=review,
            by=request.user,
            summary=form.cleaned_data["summary"],
            corrections=form.cleaned_data.get("corrections"),
        )
        if "submit" in request.POST:
            closing.review_submit(review=review, by=request.user)
            messages.success(request, _("Review submitted to the manager."))
        else:
            messages.success(request, _("Review saved."))
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        review = selectors.review_get(user=request.user, pk=pk)
        context = _detail_context(request, review, form)
        return render(request, "goals/review_detail.html", context, status=400)
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect(review)


@login_required
@require_POST
def review_publish(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(user=request.user, pk=pk)
    try:
        closing.review_publish(review=review, by=request.user)
        messages.success(request, _("Review published to the unit."))
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect(review)
