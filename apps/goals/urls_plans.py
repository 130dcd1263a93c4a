"""Goals pages: plans (included by apps/goals/urls.py in the "goals" namespace)."""

urlpatterns: list = []
