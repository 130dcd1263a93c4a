"""Pages of the commissions part of /incentives/."""

urlpatterns: list = []
