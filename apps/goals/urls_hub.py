"""The reports hub (included by apps/goals/urls.py in the "goals" namespace)."""

from django.urls import path

from . import views_hub

urlpatterns = [
    path("reports/", views_hub.reports_hub, name="reports"),
]
