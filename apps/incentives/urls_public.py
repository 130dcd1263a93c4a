"""The satisfaction survey's public page (no login): /survey/<token>/."""

app_name = "survey"

urlpatterns: list = []
