"""Deal pages and the pipeline board (included by the app's urls.py, namespace
"opportunities")."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.opportunity_list, name="list"),
    path("new/", views.opportunity_create, name="create"),
    path("board/", views.opportunity_board, name="board"),
    path("customers/search/", views.customer_search, name="deal_customer_search"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("<int:pk>/move/<str:transition>/", views.opportunity_transition, name="transition"),
]
