"""HTML pages of approvals (审批): the inbox "waiting for me" (待我审批), "submitted by me", a
request's detail with its approval panel, the decision and submit actions posted by the panel
(htmx, or plain POST + redirect without JavaScript), and the user's delegations.

Thin: reads go through `selectors` (an object outside the user's sight is a 404), writes through
the services, which stay the authority on who may do what: a PermissionDenied is a 403, a
Conflict (not your turn, no longer pending) a message in the panel, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import Conflict

from . import registry, selectors
from .choices import RequestStatus, TaskStatus
from .delegations import delegation_create, delegation_delete, delegation_get, delegation_list
from .forms import DELEGATE_MATCHES, DecisionForm, DelegationForm, delegate_candidates
from .models import ApprovalRequest, ApprovalTask
from .services import approval_approve, approval_reject, approval_submit, approval_withdraw
from .templatetags.approvals import approval_panel_context, document_type_label

PER_PAGE = 50
CHANGED_EVENT = "approvals-changed"  # htmx event: the nav badge and document pages refresh


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render_list(request: HttpRequest, page: str, results: str, context: dict) -> HttpResponse:
    response = render(request, results if _partial(request) else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- Inbox: waiting for me (待我审批) --------------------------------------------------------


def _inbox_filters(request: HttpRequest) -> dict:
    return {
        "q": request.GET.get("q", "").strip()[:100],
        "type": request.GET.get("type", "").strip()[:100],
    }


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The tasks waiting for the signed-in user, oldest first, filtered by document type and
    searched by title, 50 a page. An htmx request (the filters) gets only the results."""
    filters = _inbox_filters(request)
    tasks = selectors.approval_inbox(
        user=request.user, document_type=filters["type"]
    ).select_related("request__policy")
    if filters["q"]:
        tasks = tasks.filter(request__title__icontains=filters["q"])
    page = Paginator(tasks, PER_PAGE).get_page(request.GET.get("page"))
    # The types the user has something waiting in, for the filter (one query).
    types = sorted(
        {
            (key, str(document_type_label(key, name)))
            for key, name in selectors.approval_inbox(user=request.user)
            .order_by()
            .values_list("request__document_type", "request__policy__name")
            .distinct()
        },
        key=lambda t: t[1],
    )
    context = {
        "page": page,
        "filters": filters,
        "types": types,
        "now": timezone.now(),
        "tab": "inbox",
    }
    return _render_list(request, "approvals/inbox.html", "approvals/_inbox_results.html", context)


@require_GET
def waiting_badge(request: HttpRequest) -> HttpResponse:
    """The count of tasks waiting for the user, for the badge of the "Approvals" menu entry.
    Polled: once the session has ended it answers 204 (htmx swaps nothing) rather than the
    sign-in page."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    count = selectors.approval_waiting_count(user=request.user)
    response = render(request, "approvals/_waiting_badge.html", {"count": count})
    response["Cache-Control"] = "no-store"
    return response


# --- Submitted by me (我提交的) ---------------------------------------------------------------

STATUS_TABS = ("", *RequestStatus.values)


@login_required
@require_GET
def submitted(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own requests, newest first, by status, searched by title."""
    status = request.GET.get("status", "")
    status = status if status in RequestStatus.values else ""
    q = request.GET.get("q", "").strip()[:100]
    mine = selectors.approval_submitted_by(user=request.user)
    counts = dict(mine.order_by().values_list("status").annotate(n=Count("pk")))
    requests = selectors.approval_submitted_by(user=request.user, status=status).prefetch_related(
        Prefetch(
            "tasks",
            queryset=ApprovalTask.objects.filter(status=TaskStatus.WAITING).select_related(
                "approver"
            ),
            to_attr="waiting_tasks",
        )
    )
    if q:
        requests = requests.filter(title__icontains=q)
    page = Paginator(requests, PER_PAGE).get_page(request.GET.get("page"))
    tabs = [
        {
            "status": value,
            "label": RequestStatus(value).label if value else _("All"),
            "count": counts.get(value, 0) if value else sum(counts.values()),
        }
        for value in STATUS_TABS
    ]
    context = {
        "page": page,
        "filters": {"q": q, "status": status},
        "tabs": tabs,
        "tab": "submitted",
    }
    return _render_list(
        request, "approvals/submitted.html", "approvals/_submitted_results.html", context
    )


# --- One request -----------------------------------------------------------------------------


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request the user may see (its submitter's scope, or an approver of it; else 404):
    what it is about, and its approval panel."""
    approval = selectors.approval_get(user=request.user, pk=pk)
    document = approval.document
    return render(
        request,
        "approvals/detail.html",
        {
            "approval": approval,
            "document": document,
            "type_label": document_type_label(approval.document_type, approval.policy.name),
        },
    )


# --- Actions ---------------------------------------------------------------------------------


def _panel_response(
    request: HttpRequest,
    *,
    approval: ApprovalRequest | None,
    document,
    form: DecisionForm | None = None,
    error: str = "",
    notice: str = "",
    changed: bool = False,
) -> HttpResponse:
    if approval is not None:
        approval = selectors.approval_get(user=request.user, pk=approval.pk)
    context = approval_panel_context(
        user=request.user,
        document=document,
        approval=approval,
        form=form,
        error=error,
        notice=notice,
        next_url=_safe_next(request, ""),
    )
    response = render(request, "approvals/_panel_section.html", context)
    if changed:
        response["HX-Trigger"] = CHANGED_EVENT
    return response


def _inbox_row_response(
    request: HttpRequest,
    *,
    approval: ApprovalRequest,
    form: DecisionForm,
    error: str,
    outcome: str,
) -> HttpResponse:
    task = None
    if not outcome:
        task = (
            selectors.approval_inbox(user=request.user)
            .select_related("request__policy")
            .filter(request=approval)
            .first()
        )
    context = {
        "task": task,
        "approval": approval,
        "form": form,
        "error": error,
        "outcome": outcome,
        "return_open": bool(form.errors),
        "now": timezone.now(),
    }
    response = render(request, "approvals/_inbox_task.html", context)
    if outcome:
        response["HX-Trigger"] = CHANGED_EVENT
    return response


def _decide(
    request: HttpRequest,
    pk: int,
    service: Callable[..., ApprovalRequest],
    *,
    outcome: str,
    done: str,
) -> HttpResponse:
    """Run a decision service for request `pk` with the posted comment, then answer: the panel
    (or the inbox row) for htmx, else a redirect back with a message."""
    approval = selectors.approval_get(user=request.user, pk=pk)  # 404 outside one's sight
    form = DecisionForm(request.POST)
    error = ""
    ok = False
    if form.is_valid():
        try:
            # PermissionDenied (no part in this request) is left to Django: a 403.
            service(request=approval, by=request.user, comment=form.cleaned_data["comment"])
            ok = True
        except ValidationError as exc:
            form.add_error(None, exc)
        except Conflict as exc:
            error = str(exc)
    if request.htmx:
        if request.POST.get("from") == "inbox":
            return _inbox_row_response(
                request,
                approval=approval,
                form=form,
                error=error,
                outcome=outcome if ok else "",
            )
        return _panel_response(
            request,
            approval=approval,
            document=approval.document,
            form=None if ok else form,
            error=error,
            notice=done if ok else "",
            changed=ok,
        )
    if ok:
        messages.success(request, done)
    else:
        problems = [error] if error else [e for errs in form.errors.values() for e in errs]
        for problem in problems:
            messages.error(request, problem)
    return redirect(_safe_next(request, reverse("approvals:detail", args=[approval.pk])))


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (同意) the step waiting for the user, with an optional comment."""
    return _decide(
        request, pk, approval_approve, outcome="approved", done=_("You approved this document.")
    )


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Return (退回) the document to its submitter; the comment is required."""
    return _decide(
        request,
        pk,
        approval_reject,
        outcome="returned",
        done=_("The document was returned to the submitter."),
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """The submitter takes the document back (撤回) while it is pending."""
    return _decide(
        request,
        pk,
        approval_withdraw,
        outcome="withdrawn",
        done=_("You withdrew the document. Submit it again when it is ready."),
    )


def _visible_document(request: HttpRequest, content_type_id: int, object_id: int):
    """The document, if it is registered for approvals and in the user's data scope; else 404
    (a model without `objects.visible_to` cannot be checked, so it is not offered)."""
    try:
        content_type = ContentType.objects.get_for_id(content_type_id)
    except ContentType.DoesNotExist as exc:
        raise Http404 from exc
    model = content_type.model_class()
    if model is None:
        raise Http404
    try:
        registry.for_model(model)
    except LookupError as exc:
        raise Http404 from exc
    visible_to = getattr(model._default_manager, "visible_to", None)
    if visible_to is None:
        raise Http404
    return get_object_or_404(visible_to(request.user), pk=object_id)


@login_required
@require_POST
def submit(request: HttpRequest, content_type_id: int, object_id: int) -> HttpResponse:
    """Submit a document for approval (or resubmit it after a return or a withdrawal)."""
    document = _visible_document(request, content_type_id, object_id)
    form = DecisionForm(request.POST)
    error = ""
    approval = None
    if form.is_valid():
        try:
            # PermissionDenied (not the document's owner) is left to Django: a 403.
            approval = approval_submit(
                document=document, by=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as exc:
            # A document's own field errors (e.g. a survey field required to submit) are not
            # fields of this form: the panel shows their messages.
            error = " ".join(exc.messages)
        except Conflict as exc:
            error = str(exc)
    done = _("Submitted for approval.")
    if request.htmx:
        return _panel_response(
            request,
            approval=approval,
            document=document,
            form=None if approval else form,
            error=error,
            notice=done if approval else "",
            changed=approval is not None,
        )
    if approval is not None:
        messages.success(request, done)
    else:
        for problem in [error] if error else [e for es in form.errors.values() for e in es]:
            messages.error(request, problem)
    fallback = getattr(document, "get_absolute_url", lambda: reverse("approvals:submitted"))()
    return redirect(_safe_next(request, fallback))


# --- Delegations (代理审批人) ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def delegations(request: HttpRequest) -> HttpResponse:
    """The user's delegations, and a form to add one."""
    if request.method == "POST":
        form = DelegationForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                delegation_create(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Your delegate has been set."))
                return redirect("approvals:delegations")
    else:
        form = DelegationForm(user=request.user)
    page = Paginator(delegation_list(user=request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/delegations.html",
        {"form": form, "page": page, "today": timezone.localdate(), "tab": "delegations"},
    )


@login_required
@require_POST
def delegation_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel one of the user's own delegations (another user's is a 404)."""
    delegation = delegation_get(user=request.user, pk=pk)
    delegation_delete(delegation=delegation, by=request.user)
    messages.success(request, _("The delegation has been cancelled."))
    return redirect("approvals:delegations")


@login_required
@require_GET
def delegate_search(request: HttpRequest) -> HttpResponse:
    """Up to 20 people matching what the user typed, as choices for the delegate field."""
    q = request.GET.get("delegate_search", request.GET.get("q", "")).strip()[:100]
    people = list(delegate_candidates(user=request.user, search=q)[:DELEGATE_MATCHES]) if q else []
    return render(
        request,
        "approvals/_delegate_results.html",
        {"people": people, "q": q, "limit": DELEGATE_MATCHES},
    )
