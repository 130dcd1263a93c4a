"""Pages of the surveys part of /incentives/ (the "incentives" namespace)."""

from django.urls import path

from . import views_surveys as views

urlpatterns = [
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
]
