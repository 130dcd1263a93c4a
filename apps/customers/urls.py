from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("pool/", views.customer_pool, name="pool"),
    path("<int:pk>/claim/", views.customer_claim, name="claim"),
    path("<int:pk>/release/", views.customer_release, name="release"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/contacts/new/", views.contact_form, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/", views.contact_form, name="contact_edit"),
    path("<int:pk>/development/new/", views.development_create, name="development_create"),
    path("development/<int:pk>/", views.development_detail, name="development_detail"),
    path("development/<int:pk>/edit/", views.development_edit, name="development_edit"),
    path("<int:pk>/credit-limit/new/", views.credit_limit_create, name="credit_limit_create"),
    path("credit-limit/<int:pk>/", views.credit_limit_detail, name="credit_limit_detail"),
    path("credit-limit/<int:pk>/edit/", views.credit_limit_edit, name="credit_limit_edit"),
    path(
        "<int:pk>/credit-investigation/",
        views.credit_investigation_form,
        name="credit_investigation",
    ),
    path("<int:pk>/credit-hold/", views.credit_hold, name="credit_hold"),
    path("<int:pk>/credit-release/", views.credit_release, name="credit_release"),
]
