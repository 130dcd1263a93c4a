"""Contract pages (合同)."""

from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("new/", views.contract_create, name="create"),
    path("customers/search/", views.customer_search, name="customer_search"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/edit/", views.contract_edit, name="edit"),
    path("<int:pk>/print/", views.contract_print, name="print"),
    path("<int:pk>/submit/", views.contract_submit, name="submit"),
    path("<int:pk>/sign/", views.contract_sign, name="sign"),
    path("<int:pk>/start-execution/", views.contract_start_execution, name="start_execution"),
    path("<int:pk>/complete/", views.contract_complete, name="complete"),
    path("<int:pk>/terminate/", views.contract_terminate, name="terminate"),
    path("<int:pk>/amend/", views.amendment_create, name="amendment_create"),
    path("amendments/<int:pk>/", views.amendment_detail, name="amendment_detail"),
    path("amendments/<int:pk>/submit/", views.amendment_submit, name="amendment_submit"),
]
