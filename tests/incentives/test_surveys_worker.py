"""The survey e-mail through a real Celery worker on the Redis broker: a committed completion
queues `send_survey`, the worker sends the link."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from apps.contracts.services import contract_complete
from apps.incentives.models import SatisfactionSurvey
from apps.incentives.surveys import token_hash
from tests.core.test_celery_worker import queue, wait_for, worker  # noqa: F401 (fixtures)

from .test_surveys import executing_contract, surveyed_customer

pytestmark = pytest.mark.celery_worker


@pytest.mark.django_db(transaction=True)
def test_a_completed_contract_mails_its_survey_through_the_worker(
    org,
    worker: None,  # noqa: F811
    queue: str,  # noqa: F811
    settings,
):
    # given the survey tasks go to this test's own queue, consumed by the worker
    settings.SURVEY_QUEUE = queue
    customer = surveyed_customer(org.rep1a)
    deal = executing_contract(org.rep1a, customer)
    # when the contract is completed and the transaction commits
    with transaction.atomic():
        contract_complete(contract=deal, by=org.rep1a)
    # then the worker e-mails the contact the survey's link
    assert wait_for(lambda: len(mail.outbox) == 1), "no survey e-mail within the wait"
    message = mail.outbox[0]
    assert message.to == ["wang@huaxing.example.com"]
    base = settings.SITE_URL.rstrip("/")
    assert f"{base}/survey/" in message.body
    # and the link in it is the survey's (its hash is what was stored)
    token = message.body.split(f"{base}/survey/")[1].split("/")[0]
    assert SatisfactionSurvey.objects.get().token_hash == token_hash(token)
