"""Lead pages under /leads/."""

from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_new, name="new"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/<str:transition>/", views.lead_transition, name="transition"),
]
