"""Pages of the surveys part of /incentives/."""

urlpatterns: list = []
