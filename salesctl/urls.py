"""URL map: the browser UI, the admin, the REST API under /api/v1/, and /healthz."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("approvals/", include("apps.approvals.urls")),
    path("contracts/", include("apps.contracts.urls")),
    path("customers/", include("apps.customers.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("leads/", include("apps.leads.urls")),
    path("opportunities/", include("apps.opportunities.urls")),
    path("visits/", include("apps.visits.urls")),
    path("receivables/", include("apps.receivables.urls")),
    path("goals/", include("apps.goals.urls")),
    path("incentives/", include("apps.incentives.urls")),
    path("survey/", include("apps.incentives.urls_public")),
    path("webhooks/", include("apps.webhooks.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/", include("apps.api.urls")),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
