"""Goals pages: reports (included by apps/goals/urls.py in the "goals" namespace)."""

from django.urls import path

from . import views_reports

urlpatterns = [
    path("attainment/", views_reports.attainment_page, name="attainment"),
    path(
        "attainment/documents/",
        views_reports.attainment_documents,
        name="attainment_documents",
    ),
    path("comparison/", views_reports.comparison_page, name="comparison"),
]
