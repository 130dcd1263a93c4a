from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("submitted/", views.submitted, name="submitted"),
    path("waiting-count/", views.waiting_badge, name="waiting_badge"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/return/", views.reject, name="reject"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("submit/<int:content_type_id>/<int:object_id>/", views.submit, name="submit"),
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/people/", views.delegate_search, name="delegate_search"),
    path("delegations/<int:pk>/cancel/", views.delegation_remove, name="delegation_cancel"),
]
