"""Pages of the product catalogue and of quotes (included by the app's urls.py, in the shared
"opportunities" namespace)."""

from django.urls import path

from . import views_quotes as views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/search/", views.product_search, name="product_search"),
    path("<int:opportunity_id>/quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/new-version/", views.quote_new_version, name="quote_new_version"),
    path("quotes/<int:pk>/print/", views.quote_print, name="quote_print"),
]
