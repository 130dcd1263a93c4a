"""Goals pages: period reviews (included by apps/goals/urls.py in the "goals" namespace)."""

from django.urls import path

from . import views_reviews as views

urlpatterns = [
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/edit/", views.review_edit, name="review_edit"),
    path("reviews/<int:pk>/publish/", views.review_publish, name="review_publish"),
]
