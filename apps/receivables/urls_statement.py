"""The statement of account page (对账单), included under /receivables/ in the "receivables"
namespace."""

from django.urls import path

from . import views_statement

urlpatterns = [
    path(
        "customers/<int:customer_id>/statement/",
        views_statement.customer_statement,
        name="statement",
    ),
]
