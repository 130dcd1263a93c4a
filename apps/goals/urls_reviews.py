"""Goals pages: reviews (included by apps/goals/urls.py in the "goals" namespace)."""

urlpatterns: list = []
