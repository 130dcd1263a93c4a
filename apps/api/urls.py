"""The REST API: resources under /api/v1/, the OpenAPI schema and its interactive docs.

A new resource registers its viewset on `router` here, under a plural, lower-case, hyphenated
name (API.md "Resources").

Apps added after the first ones contribute `ROUTES` (a list of (prefix, viewset, basename)) from
their API modules, listed in `ROUTE_MODULES`, so that each module owns its own routes.
"""

import importlib

from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.accounts.api import OrgUnitViewSet, UserViewSet
from apps.approvals.api import ApprovalViewSet, DelegationViewSet
from apps.customers.api import (
    ContactViewSet,
    CreditInvestigationViewSet,
    CreditLimitRequestViewSet,
    CustomerViewSet,
    DevelopmentApplicationViewSet,
)
from apps.leads.api import LeadViewSet
from apps.notifications.api import NotificationViewSet

from .api import TokenViewSet
from .problems import problem_response

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False  # JSON only: no "users.json" twins of every route


router = Router(use_regex_path=False)
router.register("users", UserViewSet, basename="user")
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("tokens", TokenViewSet, basename="token")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("delegations", DelegationViewSet, basename="delegation")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("leads", LeadViewSet, basename="lead")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register(
    "development-applications", DevelopmentApplicationViewSet, basename="development-application"
)
router.register(
    "credit-investigations", CreditInvestigationViewSet, basename="credit-investigation"
)
router.register("credit-limit-requests", CreditLimitRequestViewSet, basename="credit-limit-request")

ROUTE_MODULES = (
    "apps.opportunities.api",
    "apps.opportunities.api_quotes",
    "apps.opportunities.api_figures",
    "apps.visits.api",
    "apps.visits.api_reports",
    "apps.contracts.api",
    "apps.receivables.api",
    "apps.receivables.api_collections",
    "apps.receivables.api_figures",
    "apps.receivables.api_statement",
    "apps.goals.api_targets",
    "apps.goals.api_plans",
    "apps.goals.api_reviews",
    "apps.goals.api_reports",
    "apps.incentives.api_scorecards",
    "apps.incentives.api_commissions",
    "apps.incentives.api_contests",
    "apps.incentives.api_surveys",
    "apps.incentives.api_diagnostics",
    "apps.webhooks.api",
    "apps.api.api_tombstones",
)
for _module in ROUTE_MODULES:
    for _prefix, _viewset, _basename in importlib.import_module(_module).ROUTES:
        router.register(_prefix, _viewset, basename=_basename)


@csrf_exempt  # a write to an unknown address is a 404 problem, not a CSRF page
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under /api/: a problem+json 404, also with DEBUG on (where Django
    would otherwise answer its HTML debug page instead of calling handler404)."""
    return problem_response(request, 404)


urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^(?P<rest>.*)$", not_found),  # last: after every resource
]
