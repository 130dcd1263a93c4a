"""Demo customer satisfaction surveys for `manage.py seed_demo` (after the visits demo): the
service visits of the demo data (and the completed contracts, if any) each sent their survey
two hours after the visit; most were answered within three days, a few were not (some of
those expired). The latest service visit's customer answered a low score through the public
page's service today, which opened the follow-up visit for the owner and notified the
supervisor.

The demo contacts have no e-mail; a customer surveyed here gets one on its primary contact
(as the rep would have noted it). Past answers are written in their final state (as the
visits demo writes past visits); the low one goes through `survey_answer`. Idempotent: once
the demo's surveys exist, nothing is added.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.contracts.choices import ContractStatus
from apps.contracts.models import Contract
from apps.customers.models import Contact
from apps.visits.choices import VisitPurpose
from apps.visits.models import VisitRecord

from .choices import SurveyStatus, SurveyTrigger
from .models import SatisfactionSurvey
from .surveys import link_days, survey_answer, survey_build

MAX_SURVEYS = 24
COMMENTS = {
    5: ["服务非常及时，工程师很专业", "设备运行稳定，感谢回访", ""],
    4: ["整体满意，希望交期再快一些", "培训很实用", ""],
    3: ["一般，售后响应偏慢", ""],
}
LOW_ANSWER = (2, 3, "交货两次延迟，现场问题到现在还没彻底解决，希望尽快处理。")


def _email_for(customer) -> None:
    """Give the customer's primary contact an e-mail if it has none (demo addresses)."""
    contact = Contact.objects.filter(customer=customer).order_by("-is_primary", "id").first()
    if contact is None or (contact.is_primary and contact.email):
        return
    contact.is_primary = True
    contact.email = contact.email or f"contact{contact.pk}@demo-customer.example.com"
    contact.save()


@transaction.atomic
def load(stdout=None) -> int:
    if SatisfactionSurvey.objects.exists():
        return 0
    rng = random.Random(20261126)
    now = timezone.now()
    visits = list(
        VisitRecord.objects.filter(purpose=VisitPurpose.SERVICE, customer__isnull=False)
        .select_related("customer")
        .order_by("-started_at", "-id")[:MAX_SURVEYS]
    )
    contracts = list(
        Contract.objects.filter(status=ContractStatus.COMPLETED)
        .select_related("customer")
        .order_by("-completed_at", "-id")[:MAX_SURVEYS]
    )
    if not visits and not contracts:
        return 0
    made: list = []
    for record in visits:
        _email_for(record.customer)
        opened = survey_build(
            trigger=SurveyTrigger.SERVICE_VISIT, customer=record.customer,
            rep_id=record.owner_id, visit_record_id=record.pk,
            sent_at=min(record.started_at + timedelta(hours=2), now),
        )  # fmt: skip
        if opened is not None:
            made.append(opened)
    for contract in contracts:
        _email_for(contract.customer)
        opened = survey_build(
            trigger=SurveyTrigger.CONTRACT_COMPLETED, customer=contract.customer,
            rep_id=contract.owner_id, contract_id=contract.pk,
            sent_at=min((contract.completed_at or now) + timedelta(hours=2), now),
        )  # fmt: skip
        if opened is not None:
            made.append(opened)
    if not made:
        return 0
    # The latest is answered low today, through the service (its link must still be valid).
    low = made[0]
    if low.survey.sent_at < now - timedelta(days=link_days() - 1):
        SatisfactionSurvey.objects.filter(pk=low.survey.pk).update(
            sent_at=now - timedelta(hours=3),
            expires_at=now - timedelta(hours=3) + timedelta(days=link_days()),
        )
    score, nps, comment = LOW_ANSWER
    survey_answer(token=low.token, score=score, nps=nps, comment=comment)
    answered = 1
    for opened in made[1:]:
        survey = opened.survey
        if rng.random() < 0.2:
            continue  # not answered (expired by now if sent long ago)
        score = rng.choice([3, 4, 4, 5, 5, 5])
        nps = rng.choice([None, 6, 7, 8, 9, 9, 10]) if score >= 4 else rng.choice([None, 7, 8])
        answered_at = min(survey.sent_at + timedelta(hours=rng.randrange(2, 72)), now)
        SatisfactionSurvey.objects.filter(pk=survey.pk).update(
            status=SurveyStatus.ANSWERED, answered_at=answered_at, score=score, nps=nps,
            comment=rng.choice(COMMENTS[score]),
        )  # fmt: skip
        answered += 1
    if stdout:
        stdout.write(f"incentives: {len(made)} satisfaction surveys, {answered} answered\n")
    return len(made)
