"""Customer satisfaction surveys (客户满意度): when one is opened (a completed contract, a
service visit), to whom, its e-mail, the one-time and expiring link, the low-score follow-up,
and the figures (average, NPS).

The builders here (`surveyed_customer`, `executing_contract`, `opened`) are shared by the other
survey tests."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.contracts.models import Contract
from apps.contracts.services import contract_complete
from apps.customers.models import Contact, Customer
from apps.incentives import selectors_surveys, surveys, tasks
from apps.incentives.models import SatisfactionSurvey
from apps.notifications.models import Notification
from apps.visits.models import VisitPlan
from apps.visits.services import visit_record_create
from tests.goals.test_actuals import contract, shanghai

pytestmark = pytest.mark.django_db

NOW = shanghai(2026, 7, 10, 10, 0)


def surveyed_customer(
    owner,
    *,
    contact_email: str = "wang@huaxing.example.com",
    customer_email: str = "info@huaxing.example.com",
    name: str = "华星精密有限公司",
) -> Customer:
    customer = Customer.objects.create(name=name, owner=owner, email=customer_email)
    Contact.objects.create(customer=customer, name="王经理", email=contact_email, is_primary=True)
    Contact.objects.create(customer=customer, name="李工", email="li@huaxing.example.com")
    return customer


def executing_contract(owner, customer) -> Contract:
    """An executing contract with nothing left to collect (it may be completed)."""
    return contract(owner, customer, date(2026, 5, 6), "120000.00", "executing")


def opened(customer, rep, *, trigger: str = "service_visit", **kwargs) -> surveys.OpenedSurvey:
    """A survey written as a service visit's would be (no e-mail queued)."""
    return surveys.survey_build(trigger=trigger, customer=customer, rep_id=rep.pk, **kwargs)


def queued(callbacks) -> list:
    return [c for c in callbacks if getattr(c, "__name__", "") == "send_survey_after_commit"]


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def customer(org):
    return surveyed_customer(org.rep1a)


# --- opening a survey -------------------------------------------------------------------------


def test_completing_a_contract_opens_a_survey_to_the_primary_contact(
    org, now, customer, django_capture_on_commit_callbacks
):
    # given an executing contract of rep1a's customer with a primary contact
    deal = executing_contract(org.rep1a, customer)
    # when it is completed
    with django_capture_on_commit_callbacks() as callbacks:
        contract_complete(contract=deal, by=org.rep1a)
    # then one survey went to the primary contact, owned by the customer's owner, for 14 days
    survey = SatisfactionSurvey.objects.get()
    assert (survey.contract_id, survey.trigger, survey.status) == (
        deal.pk, "contract_completed", "sent"
    )  # fmt: skip
    assert (survey.contact.name, survey.email, survey.owner_id) == (
        "王经理", "wang@huaxing.example.com", org.rep1a.pk
    )  # fmt: skip
    assert survey.expires_at - survey.sent_at == timedelta(days=14)
    assert len(survey.token_hash) == 64
    # and its e-mail waits for the commit
    assert len(queued(callbacks)) == 1


def test_without_a_primary_contact_email_the_customer_email_is_used(org, now):
    customer = surveyed_customer(org.rep1a, contact_email="")
    deal = executing_contract(org.rep1a, customer)
    contract_complete(contract=deal, by=org.rep1a)
    survey = SatisfactionSurvey.objects.get()
    assert (survey.contact, survey.email) == (None, "info@huaxing.example.com")


def test_without_any_email_there_is_no_survey_and_the_completion_goes_through(
    org, now, django_capture_on_commit_callbacks
):
    customer = surveyed_customer(org.rep1a, contact_email="", customer_email="")
    deal = executing_contract(org.rep1a, customer)
    with django_capture_on_commit_callbacks() as callbacks:
        done = contract_complete(contract=deal, by=org.rep1a)
    assert done.status == "completed"
    assert not SatisfactionSurvey.objects.exists()
    assert queued(callbacks) == []


def test_a_pool_customers_survey_belongs_to_the_contracts_rep(org, now):
    customer = surveyed_customer(None)
    deal = executing_contract(org.rep1b, customer)
    contract_complete(contract=deal, by=org.rep1b)
    assert SatisfactionSurvey.objects.get().owner_id == org.rep1b.pk


def test_a_rolled_back_completion_sends_nothing(
    org, now, customer, django_capture_on_commit_callbacks
):
    deal = executing_contract(org.rep1a, customer)
    # when the completion's transaction rolls back after the survey was written
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        contract_complete(contract=deal, by=org.rep1a)
        assert SatisfactionSurvey.objects.exists()
        raise RuntimeError("the request failed after the completion")
    # then there is no survey, nothing was queued and nobody was mailed
    assert not SatisfactionSurvey.objects.exists()
    assert callbacks == []
    assert mail.outbox == []
    assert Contract.objects.get(pk=deal.pk).status == "executing"


def test_a_contract_gets_one_survey(org, now, customer):
    deal = executing_contract(org.rep1a, customer)
    contract_complete(contract=deal, by=org.rep1a)
    assert surveys.survey_open_for_contract(contract=deal) is None
    assert SatisfactionSurvey.objects.count() == 1


def test_a_service_visit_opens_a_survey(org, now, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        record = visit_record_create(
            by=org.rep1a, customer=customer,
            data={"started_at": now - timedelta(hours=2), "purpose": "service"},
        )  # fmt: skip
    survey = SatisfactionSurvey.objects.get()
    assert (survey.visit_record_id, survey.trigger, survey.contract_id) == (
        record.pk, "service_visit", None
    )  # fmt: skip
    assert len(queued(callbacks)) == 1


@pytest.mark.parametrize("purpose", ["order", "collection", "problem"])
def test_a_visit_of_another_purpose_opens_none(org, now, customer, purpose):
    visit_record_create(
        by=org.rep1a, customer=customer,
        data={"started_at": now - timedelta(hours=2), "purpose": purpose},
    )  # fmt: skip
    assert not SatisfactionSurvey.objects.exists()


# --- the e-mail -------------------------------------------------------------------------------


def test_the_task_emails_the_link_to_the_contact(org, now, customer, client):
    # given a survey just opened
    made = opened(customer, org.rep1a)
    # when the queued task runs
    tasks.send_survey(made.survey.pk, made.token)
    # then the contact got the absolute link, one e-mail, without any amount
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["wang@huaxing.example.com"]
    link = f"{settings.SITE_URL.rstrip('/')}/survey/{made.token}/"
    assert link in message.body
    assert "120000" not in message.body and "120,000" not in message.body
    # and the link opens the survey's page
    assert client.get(f"/survey/{made.token}/").status_code == 200


def test_nothing_is_sent_for_an_answered_survey_or_a_wrong_token(org, now, customer):
    made = opened(customer, org.rep1a)
    assert surveys.survey_send(survey_id=made.survey.pk, token="not-the-token") is False
    surveys.survey_answer(token=made.token, score=5)
    assert surveys.survey_send(survey_id=made.survey.pk, token=made.token) is False
    assert surveys.survey_send(survey_id=0, token=made.token) is False
    assert mail.outbox == []


# --- answering: once, before it expires -------------------------------------------------------


def test_a_survey_is_answered_once(org, now, customer):
    made = opened(customer, org.rep1a)
    surveys.survey_answer(token=made.token, score=4, nps=9, comment="不错")
    # when a second answer comes (a second tab)
    with pytest.raises(surveys.SurveyAnswered):
        surveys.survey_answer(token=made.token, score=1, nps=0, comment="改主意了")
    # then the first answer stands
    survey = SatisfactionSurvey.objects.get()
    assert (survey.status, survey.score, survey.nps, survey.comment) == ("answered", 4, 9, "不错")
    assert survey.answered_at == now


def test_a_link_answers_until_it_expires_and_not_after(org, now, customer, time_machine):
    first = opened(customer, org.rep1a)
    second = opened(surveyed_customer(org.rep1a, name="第二客户"), org.rep1a)
    # a minute before the 14 days are up, it answers
    time_machine.move_to(now + timedelta(days=14) - timedelta(minutes=1), tick=False)
    surveys.survey_answer(token=first.token, score=5)
    # at 14 days it has expired: nothing is saved
    time_machine.move_to(now + timedelta(days=14), tick=False)
    with pytest.raises(surveys.SurveyExpired):
        surveys.survey_answer(token=second.token, score=5)
    survey = SatisfactionSurvey.objects.get(pk=second.survey.pk)
    assert (survey.status, survey.score, survey.answered_at) == ("sent", None, None)


def test_the_link_days_are_a_setting(org, now, customer, settings):
    settings.SURVEY_LINK_DAYS = 3
    made = opened(customer, org.rep1a)
    assert made.survey.expires_at == now + timedelta(days=3)


def test_an_unknown_token_finds_no_survey(org, now, customer):
    opened(customer, org.rep1a)
    with pytest.raises(SatisfactionSurvey.DoesNotExist):
        surveys.survey_answer(token="no-such-token", score=5)


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": "five"}, "score"),
        ({"score": None}, "score"),
        ({"score": 4, "nps": 11}, "nps"),
        ({"score": 4, "nps": -1}, "nps"),
        ({"score": 4, "comment": "很" * 2001}, "comment"),
    ],
)
def test_bad_answers_name_the_field_and_save_nothing(org, now, customer, answer, field):
    made = opened(customer, org.rep1a)
    with pytest.raises(ValidationError) as caught:
        surveys.survey_answer(token=made.token, **answer)
    assert list(caught.value.message_dict) == [field]
    assert SatisfactionSurvey.objects.get().status == "sent"


# --- a low score ------------------------------------------------------------------------------


def test_a_low_score_opens_a_follow_up_visit_and_tells_the_supervisor(org, now, customer):
    made = opened(customer, org.rep1a)
    # when the customer answers 2 with a comment
    survey = surveys.survey_answer(token=made.token, score=2, nps=4, comment="交货延迟两次")
    # then a problem-handling visit is planned for the owner tomorrow, quoting the answer
    plan = VisitPlan.objects.get()
    assert survey.follow_up_plan_id == plan.pk
    assert (plan.owner_id, plan.customer_id, plan.purpose, plan.status) == (
        org.rep1a.pk, customer.pk, "problem", "planned"
    )  # fmt: skip
    assert plan.planned_date == date(2026, 7, 11)
    assert "2/5" in plan.objectives and "交货延迟两次" in plan.objectives
    # and the supervisor (and the owner) are told, linking the survey
    alerts = Notification.objects.filter(kind="satisfaction_alert")
    assert sorted(alerts.values_list("recipient_id", flat=True)) == sorted(
        [org.sup1.pk, org.rep1a.pk]
    )
    assert {a.url for a in alerts} == {survey.get_absolute_url()}


def test_a_good_score_opens_nothing(org, now, customer):
    made = opened(customer, org.rep1a)
    surveys.survey_answer(token=made.token, score=4, nps=6)
    assert not VisitPlan.objects.exists()
    assert not Notification.objects.filter(kind="satisfaction_alert").exists()


def test_without_a_plan_the_supervisor_is_still_told(org, now):
    # given the survey's owner left the company (no plan can be made for them)
    customer = surveyed_customer(org.rep1b)
    made = opened(customer, org.rep1b)
    type(org.rep1b).objects.filter(pk=org.rep1b.pk).update(is_active=False)
    survey = surveys.survey_answer(token=made.token, score=1)
    assert survey.follow_up_plan_id is None and not VisitPlan.objects.exists()
    assert list(
        Notification.objects.filter(kind="satisfaction_alert").values_list(
            "recipient_id", flat=True
        )
    ) == [org.sup1.pk]


@pytest.mark.parametrize(
    ("score", "nps", "low"),
    [
        (1, None, True), (2, 10, True), (3, 6, True), (3, 0, True), (3, 7, False),
        (3, None, False), (4, 0, False), (5, None, False),
    ],
)  # fmt: skip
def test_the_low_score_rule(score, nps, low):
    assert surveys.is_low_score(score, nps) is low


# --- the figures ------------------------------------------------------------------------------


def _answered(customer, rep, score, nps):
    made = opened(customer, rep)
    SatisfactionSurvey.objects.filter(pk=made.survey.pk).update(
        status="answered", score=score, nps=nps, answered_at=timezone.now()
    )


def test_average_and_nps_of_a_set(org, now, customer):
    # given five answers (scores 5 4 3 4 2; recommend 10, 9, 7, 3 and one without) and one
    # survey not answered
    for score, nps in ((5, 10), (4, 9), (3, 7), (4, 3), (2, None)):
        _answered(customer, org.rep1a, score, nps)
    opened(customer, org.rep1a)
    stats = selectors_surveys.survey_stats(SatisfactionSurvey.objects.all())
    # then the average is over the five answers, the NPS over the four with a likelihood:
    # 2 promoters, 1 passive, 1 detractor → (2 − 1) / 4 = 25.0
    assert (stats.sent, stats.answered) == (6, 5)
    assert stats.average == Decimal("3.60")
    assert (stats.promoters, stats.passives, stats.detractors) == (2, 1, 1)
    assert stats.nps == Decimal("25.0")
    assert stats.response_rate == Decimal("83.3")


def test_nps_rounds_half_up_and_is_none_without_ratings(org, now, customer):
    for nps in (9, 8, 8):
        _answered(customer, org.rep1a, 4, nps)
    stats = selectors_surveys.survey_stats(SatisfactionSurvey.objects.all())
    assert stats.nps == Decimal("33.3")  # 1 promoter of 3
    SatisfactionSurvey.objects.update(nps=None)
    assert selectors_surveys.survey_stats(SatisfactionSurvey.objects.all()).nps is None


def test_all_detractors_is_minus_100(org, now, customer):
    for nps in (0, 6):
        _answered(customer, org.rep1a, 2, nps)
    assert selectors_surveys.survey_stats(SatisfactionSurvey.objects.all()).nps == Decimal("-100.0")


# --- two tabs at once -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_record_one(org):
    # given a survey (committed: each thread has its own connection)
    customer = surveyed_customer(org.rep1a)
    made = opened(customer, org.rep1a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(score: int) -> None:
        try:
            barrier.wait(timeout=10)
            surveys.survey_answer(token=made.token, score=score)
            outcomes.append("answered")
        except surveys.SurveyAnswered:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(s,)) for s in (4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then one answer was recorded and the other refused
    assert sorted(outcomes) == ["answered", "refused"]
    survey = SatisfactionSurvey.objects.get()
    assert survey.status == "answered" and survey.score in (4, 5)
