from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_index, name="list"),
    path("badge/", views.badge, name="badge"),
    path("menu/", views.menu, name="menu"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences, name="preferences"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
]
