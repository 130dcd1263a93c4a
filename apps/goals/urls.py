"""Goals and reports pages under /goals/: each part in its own module."""

from . import urls_hub, urls_plans, urls_reports, urls_reviews, urls_targets

app_name = "goals"

urlpatterns = [
    *urls_targets.urlpatterns,
    *urls_plans.urlpatterns,
    *urls_reviews.urlpatterns,
    *urls_reports.urlpatterns,
    *urls_hub.urlpatterns,
]
