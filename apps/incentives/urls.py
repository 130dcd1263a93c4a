"""Assessment and incentives pages under /incentives/: each part in its own module."""

from . import urls_commissions, urls_contests, urls_diagnostics, urls_scorecards, urls_surveys

app_name = "incentives"

urlpatterns = [
    *urls_scorecards.urlpatterns,
    *urls_commissions.urlpatterns,
    *urls_contests.urlpatterns,
    *urls_surveys.urlpatterns,
    *urls_diagnostics.urlpatterns,
]
