"""Collection pages (催收), included under /receivables/ in the "receivables" namespace."""

from django.urls import path

from . import views_collections as views

urlpatterns = [
    path("collection/", views.collection_list, name="collection_list"),
    path("collection/new/", views.collection_create, name="collection_create"),
    path(
        "collection/customers/",
        views.collection_customer_search,
        name="collection_customer_search",
    ),
    path("collection/tasks/", views.collection_task_list, name="collection_task_list"),
    path(
        "collection/tasks/<int:pk>/done/", views.collection_task_done, name="collection_task_done"
    ),
]
