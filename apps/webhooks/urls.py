from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.subscription_list, name="subscription_list"),
    path("<int:pk>/", views.subscription_detail, name="subscription_detail"),
    path("<int:pk>/ping/", views.subscription_ping, name="subscription_ping"),
    path("<int:pk>/rotate-secret/", views.subscription_rotate, name="subscription_rotate"),
    path("<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
]
