"""Receivables figure pages (应收分析), included under /receivables/ in the "receivables"
namespace."""

from django.urls import path

from . import views_figures

urlpatterns = [
    path("figures/", views_figures.figures_page, name="figures"),
    path("figures/customers/<int:pk>/", views_figures.figures_customer, name="figures_customer"),
]
