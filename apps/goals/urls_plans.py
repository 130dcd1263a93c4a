"""Goals pages: sales plans and target adjustments (included by apps/goals/urls.py in the
"goals" namespace)."""

from django.urls import path

from . import views_plans

urlpatterns = [
    path("plans/", views_plans.plan_list_view, name="plan_list"),
    path("plans/new/", views_plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views_plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views_plans.plan_update, name="plan_update"),
    path("adjustments/", views_plans.adjustment_list_view, name="adjustment_list"),
    path("adjustments/<int:pk>/", views_plans.adjustment_detail, name="adjustment_detail"),
    path("adjustments/<int:pk>/edit/", views_plans.adjustment_update, name="adjustment_update"),
    path(
        "targets/<int:target_pk>/adjust/",
        views_plans.adjustment_create,
        name="adjustment_create",
    ),
]
