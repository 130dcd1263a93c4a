"""Pages of the weekly sales reports and the visit figures (included at /visits/ in the
"visits" namespace)."""

from django.urls import path

from . import views_reports as views

urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
    path("figures/", views.figures_page, name="figures"),
]
