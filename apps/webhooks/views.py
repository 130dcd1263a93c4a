"""Webhook pages (administrators): subscriptions, their delivery log, test and redeliver.
Anyone else gets a 404 on every page (the selectors return nothing)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .choices import DeliveryStatus
from .forms import SubscriptionForm

PER_PAGE = 50


def _require_manager(request: HttpRequest) -> None:
    if not services.can_manage(request.user):
        raise Http404


def _subscription(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.subscription_list(user=request.user), pk=pk)


@login_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = services.subscription_create(by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Subscription created. Copy its signing secret now."))
            return redirect(subscription.get_absolute_url())
    subscriptions = selectors.subscription_list(user=request.user)
    return render(
        request, "webhooks/subscription_list.html",
        {"form": form, "subscriptions": subscriptions},
    )  # fmt: skip


@login_required
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    form = SubscriptionForm(
        request.POST or None,
        initial={
            "name": subscription.name, "url": subscription.url,
            "event_types": subscription.event_types, "is_active": subscription.is_active,
        },
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_update(
                subscription=subscription, by=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Subscription saved."))
            return redirect(subscription.get_absolute_url())
    deliveries = selectors.delivery_list(user=request.user, subscription=subscription)
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "webhooks/subscription_detail.html",
        {
            "subscription": subscription, "form": form, "page": page, "status": status,
            "statuses": DeliveryStatus.choices,
        },
    )  # fmt: skip


@login_required
@require_POST
def subscription_ping(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    services.subscription_ping(subscription=subscription, by=request.user)
    messages.success(request, _("A test event is on its way."))
    return redirect(subscription.get_absolute_url())


@login_required
@require_POST
def subscription_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    services.subscription_rotate_secret(subscription=subscription, by=request.user)
    messages.success(request, _("New signing secret set: update the receiver."))
    return redirect(subscription.get_absolute_url())


@login_required
@require_POST
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    services.subscription_delete(subscription=subscription, by=request.user)
    messages.success(request, _("Subscription deleted."))
    return redirect("webhooks:subscription_list")


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(selectors.delivery_list(user=request.user), pk=pk)
    services.delivery_redeliver(delivery=delivery, by=request.user)
    messages.success(request, _("The event will be delivered again."))
    return redirect(delivery.subscription.get_absolute_url())
