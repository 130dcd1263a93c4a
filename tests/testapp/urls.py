from django.urls import path

from . import views

app_name = "testapp"

urlpatterns = [
    path("memos/<int:pk>/", views.memo_detail, name="memo"),
    path("memos/<int:pk>/submit/", views.memo_submit, name="memo-submit"),
]
