"""Pages of the contests part of /incentives/ (the "incentives" namespace)."""

from django.urls import path

from . import views_contests as views

urlpatterns = [
    path("contests/", views.contest_list, name="contest_list"),
    path("contests/new/", views.contest_create, name="contest_create"),
    path("contests/<int:pk>/", views.contest_detail, name="contest_detail"),
    path("contests/<int:pk>/edit/", views.contest_edit, name="contest_edit"),
    path("contests/<int:pk>/leaderboard/", views.contest_leaderboard, name="contest_leaderboard"),
]
