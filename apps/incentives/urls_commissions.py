"""Pages of the commissions part of /incentives/ (回款提成): the statements and the plans."""

from django.urls import path

from . import views_commissions as views

urlpatterns = [
    path("commissions/", views.statement_list, name="statement_list"),
    path("commissions/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("commissions/submit-team/", views.statement_submit_team, name="statement_submit_team"),
    path("commissions/payroll/", views.statement_export, name="statement_export"),
    path("commission-plans/", views.plan_list, name="commission_plan_list"),
    path("commission-plans/new/", views.plan_create, name="commission_plan_create"),
    path("commission-plans/<int:pk>/", views.plan_detail, name="commission_plan_detail"),
    path("commission-plans/<int:pk>/edit/", views.plan_edit, name="commission_plan_edit"),
    path(
        "commission-plans/<int:pk>/deactivate/",
        views.plan_deactivate,
        name="commission_plan_deactivate",
    ),
]
