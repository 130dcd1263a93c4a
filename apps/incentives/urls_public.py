"""The satisfaction survey's public page (no login): /survey/<token>/."""

from django.urls import path

from . import views_surveys as views

app_name = "survey"

urlpatterns = [
    # The token is `secrets.token_urlsafe(32)`: letters, digits, "-" and "_".
    path("<str:token>/", views.survey_answer, name="answer"),
]
