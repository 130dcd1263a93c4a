"""Visit plan, record and calendar pages under /visits/ (the "visits" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("targets/", views.target_search, name="target_search"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/move/", views.plan_move, name="plan_move"),
    path("plans/<int:pk>/cancel/", views.plan_cancel, name="plan_cancel"),
    path("records/", views.record_list, name="record_list"),
    path("records/new/", views.record_create, name="record_create"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/edit/", views.record_edit, name="record_edit"),
]
