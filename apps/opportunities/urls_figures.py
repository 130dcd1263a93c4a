"""Pipeline figure pages (商机分析), in the shared "opportunities" namespace."""

from django.urls import path

from . import views_figures

urlpatterns = [
    path("forecast/", views_figures.forecast, name="forecast"),
    path("funnel/", views_figures.funnel, name="funnel"),
]
