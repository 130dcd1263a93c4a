"""Pages of this part of the app (included by the app's urls.py)."""

urlpatterns: list = []
