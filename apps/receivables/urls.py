"""Receivables pages under /receivables/."""

from django.urls import path

from . import urls_collections, urls_figures, urls_statement, views

app_name = "receivables"

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("my-overdue/", views.my_overdue, name="my_overdue"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/new/", views.payment_create, name="payment_create"),
    path("payments/customers/", views.payment_customer_search, name="payment_customer_search"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="payment_allocate"),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
    path(
        "payments/<int:pk>/allocations/<int:allocation_pk>/reverse/",
        views.allocation_reverse,
        name="allocation_reverse",
    ),
    path("installments/", views.installment_list, name="installment_list"),
    path("installments/<int:pk>/", views.installment_detail, name="installment_detail"),
    path("installments/<int:pk>/write-off/", views.writeoff_create, name="writeoff_create"),
    path("write-offs/<int:pk>/", views.writeoff_detail, name="writeoff_detail"),
]

# Collection records and tasks (催收记录 / 催收任务), the statement of account (对账单) and the
# figures (应收分析), each in its own module.
urlpatterns += urls_collections.urlpatterns
urlpatterns += urls_statement.urlpatterns
urlpatterns += urls_figures.urlpatterns
