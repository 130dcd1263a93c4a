"""Pages of the scorecards part of /incentives/."""

urlpatterns: list = []
