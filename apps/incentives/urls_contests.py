"""Pages of the contests part of /incentives/."""

urlpatterns: list = []
