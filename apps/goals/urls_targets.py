"""Goals pages: targets (included by apps/goals/urls.py in the "goals" namespace)."""

from django.urls import path

from . import views_targets

urlpatterns = [
    path("targets/", views_targets.target_list, name="target_list"),
    path("targets/new/", views_targets.target_create, name="target_create"),
    path("targets/<int:pk>/", views_targets.target_detail, name="target_detail"),
    path("targets/<int:pk>/decompose/", views_targets.target_decompose, name="target_decompose"),
    path("targets/<int:pk>/amount/", views_targets.target_set_amount, name="target_set_amount"),
]
