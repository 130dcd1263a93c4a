"""A minimal owned document with an FSM status, for testing the approval engine."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django_fsm import FSMField, transition

from apps.accounts.scope import ScopedManager


class Memo(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    title = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    discount = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    status = FSMField(default="draft", protected=True)
    approved_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("testapp:memo", args=[self.pk])

    @transition(field=status, source="draft", target="pending")
    def submit(self) -> None:
        pass

    @transition(field=status, source="pending", target="approved")
    def approve(self) -> None:
        self.approved_count += 1

    @transition(field=status, source="pending", target="draft")
    def return_to_draft(self) -> None:
        pass


def memo_submitted(memo: Memo, request) -> None:
    memo.submit()
    memo.save()


def memo_approved(memo: Memo, request) -> None:
    memo.approve()
    memo.save()


def memo_returned(memo: Memo, request) -> None:
    memo.return_to_draft()
    memo.save()


def memo_new(**kwargs) -> Memo:
    kwargs.setdefault("amount", Decimal("1000"))
    return Memo.objects.create(**kwargs)
