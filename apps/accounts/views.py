"""HTML pages of accounts: sign in and out, own profile and password, users and the org tree.

Thin: every read goes through `selectors` (which applies the data scope, so an object outside
it is a 404), every page renders one template.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import selectors
from .choices import Role
from .forms import LoginForm, ProfileForm
from .services import user_profile_update

USERS_PER_PAGE = 50
MEMBERS_SHOWN = 20


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """Make `language` the UI language from the next request on, like Django's set_language."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


# --- Sign in / out, password ---------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Sign in; a user who chose a preferred language gets the UI in it right away."""

    template_name = "registration/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        language = form.get_user().language
        if language:
            set_language_cookie(response, language)
        return response


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires), back to the sign-in page with a notice."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have signed out."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


# --- Own profile -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own profile: name, e-mail, phone and preferred language."""
    # A fresh copy, so that a form with errors never alters request.user (shown in the top bar).
    me = selectors.user_get(user=request.user, pk=request.user.pk)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=me)
        if form.is_valid():
            user_profile_update(user=me, by=request.user, data=form.cleaned_data)
            response = redirect("accounts:profile")
            language = form.cleaned_data["language"]
            if language:
                set_language_cookie(response, language)
                translation.activate(language)  # the notice below reads in the new language
            messages.success(request, _("Your profile has been saved."))
            return response
    else:
        form = ProfileForm(instance=me)
    return render(request, "accounts/profile.html", {"form": form, "person": me})


# --- Users -----------------------------------------------------------------------------------


def _user_filters(request: HttpRequest) -> dict:
    role = request.GET.get("role", "")
    unit = request.GET.get("unit", "")
    return {
        "q": request.GET.get("q", "").strip()[:100],
        "role": role if role in Role.values else "",
        "unit": int(unit) if unit.isdigit() else None,
    }


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    """Users within the caller's scope, searchable and filterable, 50 a page.

    An htmx request (the search box as one types) gets only the results table.
    """
    filters = _user_filters(request)
    users = selectors.user_list(user=request.user, search=filters["q"])
    if filters["role"]:
        users = users.filter(role=filters["role"])
    unit = None
    if filters["unit"]:
        unit = selectors.org_unit_get(user=request.user, pk=filters["unit"])
        users = users.filter(org_unit=unit)
    page = Paginator(users, USERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "filters": filters, "roles": Role.choices, "unit": unit}
    partial = request.htmx and not request.htmx.history_restore_request
    template = "accounts/_user_results.html" if partial else "accounts/user_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One user within scope (else 404): profile, place in the org, and change history."""
    person = selectors.user_get(user=request.user, pk=pk)
    return render(
        request,
        "accounts/user_detail.html",
        {"person": person, "headed_units": list(person.headed_units.filter(is_active=True))},
    )


# --- Org tree --------------------------------------------------------------------------------


def _with_member_count(units):
    return units.annotate(member_count=Count("members", filter=Q(members__is_active=True)))


@login_required
def org(request: HttpRequest) -> HttpResponse:
    """The visible part of the org tree, each unit with its head and member count (one query)."""
    units = list(_with_member_count(selectors.org_unit_list(user=request.user)).order_by("path"))
    base = min((u.depth for u in units), default=0)
    tree = [(u, u.depth - base) for u in units]
    return render(request, "accounts/org.html", {"tree": tree})


@login_required
def org_unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One org unit within scope (else 404): head, sub-units, members and change history."""
    unit = selectors.org_unit_get(user=request.user, pk=pk)
    visible = selectors.org_unit_list(user=request.user)
    children = _with_member_count(visible.filter(parent=unit)).order_by("name")
    ancestor_ids = [int(part) for part in unit.path.split(".") if part][:-1]
    ancestors = visible.filter(pk__in=ancestor_ids).order_by("path")
    members = selectors.user_list(user=request.user).filter(org_unit=unit)
    shown = list(members[: MEMBERS_SHOWN + 1])
    return render(
        request,
        "accounts/org_unit_detail.html",
        {
            "unit": unit,
            "ancestors": list(ancestors),
            "children": list(children),
            "members": shown[:MEMBERS_SHOWN],
            "more_members": len(shown) > MEMBERS_SHOWN,
        },
    )
