"""Pages of the diagnostics part of /incentives/."""

urlpatterns: list = []
