"""HTML pages of notifications (通知 / 消息): the list, the bell's badge and menu, opening one
(marks it read and goes where it points), marking read, and the e-mail preferences.

A user only ever reaches their own notifications: another user's is a 404 (`selectors`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import NotificationPreferencesForm
from .selectors import notification_get, notification_list, unread_count
from .services import notification_mark_read

PER_PAGE = 50
MENU_SIZE = 8
CHANGED_EVENT = "notifications-changed"  # htmx event: the bell's badge refreshes


def _local_url(request: HttpRequest, url: str) -> str:
    """`url` if it stays on this site, else "" (a notification never sends anyone away)."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@login_required
@require_GET
def notification_index(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, 50 a page; `?show=unread` for the unread ones."""
    show = "unread" if request.GET.get("show") == "unread" else "all"
    qs = notification_list(request.user, unread=True if show == "unread" else None)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "show": show, "unread": unread_count(request.user)}
    partial = request.htmx and not request.htmx.history_restore_request
    template = "notifications/_results.html" if partial else "notifications/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The bell's unread count (polled by htmx every 30 s). Once the session has ended it
    answers 204 (htmx swaps nothing) rather than the sign-in page."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    response = render(request, "notifications/_badge.html", {"count": unread_count(request.user)})
    response["Cache-Control"] = "no-store"
    return response


def _menu(request: HttpRequest) -> HttpResponse:
    items = list(notification_list(request.user)[:MENU_SIZE])
    response = render(
        request,
        "notifications/_menu.html",
        {"items": items, "unread": unread_count(request.user)},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def menu(request: HttpRequest) -> HttpResponse:
    """The bell's dropdown: the newest notifications, loaded when it opens."""
    return _menu(request)


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open one of the user's notifications: mark it read, then go to what it points at."""
    notification = notification_get(request.user, pk)
    notification_mark_read(user=request.user, ids=[notification.pk])
    return redirect(_local_url(request, notification.url) or reverse("notifications:list"))


def _after_marking(request: HttpRequest, done: str, pk: int | None = None) -> HttpResponse:
    """The bell's menu or the list item again for htmx (and the badge refreshes), else a
    redirect back with a message."""
    origin = request.POST.get("from")
    if request.htmx and origin in ("menu", "item"):
        if origin == "menu":
            response = _menu(request)
        else:
            response = render(
                request,
                "notifications/_item.html",
                {"notification": notification_get(request.user, pk)},
            )
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    messages.success(request, done)
    return redirect(_local_url(request, request.POST.get("next", "")) or "notifications:list")


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's notifications read (another user's is a 404)."""
    notification = notification_get(request.user, pk)
    notification_mark_read(user=request.user, ids=[notification.pk])
    return _after_marking(request, _("Marked as read."), pk=notification.pk)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    """Mark every unread notification of the user read."""
    notification_mark_read(user=request.user)
    return _after_marking(request, _("All notifications are marked as read."))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Which kinds of notification also come by e-mail."""
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST, user=request.user)
        if form.is_valid():
            form.save()
            messages.success(request, _("Your notification settings have been saved."))
            return redirect("notifications:preferences")
    else:
        form = NotificationPreferencesForm(user=request.user)
    return render(request, "notifications/preferences.html", {"form": form})
