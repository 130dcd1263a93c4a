"""The scorecard's way (seed 004 steps 10–12): the supervisor's assessment submitted through the
approval engine, the manager's approval or return with a comment, the publication (one, or all
approved of a team and period) and the person told; who may do each step; who sees which
scorecard (a rep only their own published ones; another team's head 404; finance none) on the
pages and the API; two heads submitting at once."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from apps.approvals.choices import RequestStatus
from apps.approvals.models import ApprovalPolicy, ApprovalStep, ApprovalTask
from apps.approvals.services import approval_approve, approval_reject, approval_request_for
from apps.core.errors import Conflict
from apps.goals.periods import period_of
from apps.incentives import scorecards
from apps.incentives.choices import KpiMetric, SchemeRole, ScorecardStatus
from apps.incentives.models import Scorecard
from apps.notifications.choices import NotificationKind
from apps.notifications.models import Notification
from tests.approvals.test_concurrency import run_at_once
from tests.factories import PASSWORD

from .test_scorecards import linear, make_scheme

pytestmark = pytest.mark.django_db

JUNE = period_of("month", date(2026, 6, 1))


@pytest.fixture
def scorecard_policy(db):
    """The default policy of migration 0002 (the manager approves), made again after a
    transactional test emptied the tables."""
    policy, created = ApprovalPolicy.objects.get_or_create(
        document_type="incentives.scorecard", defaults={"name": "Scorecard approval"}
    )
    if created:
        ApprovalStep.objects.create(
            policy=policy, order=1, name="Manager approval", approver_kind="role", role="manager"
        )
    return policy


@pytest.fixture
def computed(org, scorecard_policy):
    """June's scorecards of the four reps, computed (no documents: nothing to measure, 0)."""
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    scorecards.scorecards_compute(scheme=scheme, period=JUNE)
    return {c.user_id: c for c in Scorecard.objects.select_related("user", "org_unit")}


def card_of(computed, user) -> Scorecard:
    return Scorecard.objects.get(pk=computed[user.pk].pk)


def set_status(card: Scorecard, status: str) -> Scorecard:
    Scorecard.objects.filter(pk=card.pk).update(status=status)
    return Scorecard.objects.get(pk=card.pk)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the flow ---------------------------------------------------------------------------------


def test_assessment_is_submitted_approved_published_and_the_rep_sees_it(
    org, computed, client, django_capture_on_commit_callbacks
):
    card = card_of(computed, org.rep1a)
    # given the rep cannot see the card while it is being assessed
    assert login(client, org.rep1a).get(card.get_absolute_url()).status_code == 404
    # when sup1 writes the assessment and submits it
    request = scorecards.scorecard_submit(scorecard=card, by=org.sup1, assessment="Good month.")
    card = Scorecard.objects.get(pk=card.pk)
    assert (card.status, card.assessment, card.assessed_by) == (
        ScorecardStatus.PENDING, "Good month.", org.sup1,
    )  # fmt: skip
    assert ApprovalTask.objects.filter(request=request, approver=org.manager1).exists()
    # and manager1 approves it
    approval_approve(request=request, by=org.manager1)
    card = Scorecard.objects.get(pk=card.pk)
    assert card.status == ScorecardStatus.APPROVED and card.approved_at is not None
    # and publishes it
    with django_capture_on_commit_callbacks(execute=True):
        scorecards.scorecard_publish(scorecard=card, by=org.manager1)
    card = Scorecard.objects.get(pk=card.pk)
    assert card.status == ScorecardStatus.PUBLISHED and card.published_at is not None
    # then the rep is told, and sees it
    told = Notification.objects.get(recipient=org.rep1a, kind=NotificationKind.ASSESSMENT)
    assert told.url == card.get_absolute_url() and "2026-06" in told.title
    page = client.get(card.get_absolute_url())
    assert page.status_code == 200 and "Good month." in page.content.decode()


def test_return_brings_the_card_back_with_the_comment_and_it_can_be_resubmitted(org, computed):
    card = card_of(computed, org.rep1a)
    request = scorecards.scorecard_submit(scorecard=card, by=org.sup1, assessment="First try.")
    approval_reject(request=request, by=org.manager1, comment="Say more about collections.")
    card = Scorecard.objects.get(pk=card.pk)
    assert (card.status, card.return_comment) == (
        ScorecardStatus.COMPUTED, "Say more about collections.",
    )  # fmt: skip
    request = scorecards.scorecard_submit(scorecard=card, by=org.sup1, assessment="Second try.")
    assert request.status == RequestStatus.PENDING and request.round == 2
    assert Scorecard.objects.get(pk=card.pk).assessment == "Second try."


def test_submission_without_an_assessment_is_refused_and_changes_nothing(org, computed):
    card = card_of(computed, org.rep1a)
    with pytest.raises(ValidationError) as exc:
        scorecards.scorecard_submit(scorecard=card, by=org.sup1, assessment="   ")
    assert exc.value.message_dict == {"assessment": ["Write the assessment before submitting."]}
    assert Scorecard.objects.get(pk=card.pk).status == ScorecardStatus.COMPUTED
    assert approval_request_for(card) is None


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("sup1", True), ("manager1", True), ("rep1a", False), ("rep1b", False), ("sup2", False),
     ("manager2", False), ("admin", False), ("finance", False)],
)  # fmt: skip
def test_only_a_head_above_the_person_assesses(org, computed, who, allowed):
    card = card_of(computed, org.rep1a)
    user = getattr(org, who)
    if who == "manager1":
        # The company's general manager (the admin here) approves what a department head
        # submits.
        org.company.head = org.admin
        org.company.save(update_fields=["head"])
    assert scorecards.can_submit_scorecard(user, card) is allowed
    if allowed:
        scorecards.scorecard_submit(scorecard=card, by=user, assessment="OK.")
        # the submitter's own head approves: the manager for a supervisor, the company's
        # head for the manager
        expected = org.manager1 if who == "sup1" else org.admin
        task = ApprovalTask.objects.get(request=approval_request_for(card))
        assert task.approver == expected
    else:
        with pytest.raises(PermissionDenied):
            scorecards.scorecard_submit(scorecard=card, by=user, assessment="OK.")


def test_a_supervisor_does_not_assess_his_own_scorecard(org, scorecard_policy):
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100),
                         role=SchemeRole.SUPERVISOR, name="Supervisors")  # fmt: skip
    scorecards.scorecards_compute(scheme=scheme, period=JUNE)
    own = Scorecard.objects.get(user=org.sup1)
    assert not scorecards.can_submit_scorecard(org.sup1, own)
    assert scorecards.can_submit_scorecard(org.manager1, own)


def test_a_submitted_card_is_not_assessed_again(org, computed):
    card = card_of(computed, org.rep1a)
    scorecards.scorecard_submit(scorecard=card, by=org.sup1, assessment="Done.")
    with pytest.raises(Conflict) as exc:
        scorecards.scorecard_assess(scorecard=card, by=org.sup1, assessment="Changed.")
    assert exc.value.code == "not_computed"
    with pytest.raises(Conflict):
        scorecards.scorecard_submit(scorecard=card, by=org.manager1, assessment="Again.")


def test_only_an_approved_card_is_published(org, computed):
    card = card_of(computed, org.rep1a)
    with pytest.raises(Conflict) as exc:
        scorecards.scorecard_publish(scorecard=card, by=org.manager1)
    assert exc.value.code == "not_approved"


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("manager1", True), ("admin", True), ("sup1", False), ("manager2", False),
     ("rep1a", False), ("finance", False)],
)  # fmt: skip
def test_only_a_manager_above_or_an_admin_publishes(org, computed, who, allowed):
    card = set_status(card_of(computed, org.rep1a), ScorecardStatus.APPROVED)
    if allowed:
        scorecards.scorecard_publish(scorecard=card, by=getattr(org, who))
        assert Scorecard.objects.get(pk=card.pk).status == ScorecardStatus.PUBLISHED
    else:
        with pytest.raises(PermissionDenied):
            scorecards.scorecard_publish(scorecard=card, by=getattr(org, who))


def test_publish_all_approved_of_a_team_and_period(
    org, computed, django_capture_on_commit_callbacks
):
    for user in (org.rep1a, org.rep1b, org.rep3a):
        set_status(card_of(computed, user), ScorecardStatus.APPROVED)
    # manager1 publishes all of team 1 (rep2a's is still computed); rep3a's is manager2's
    with django_capture_on_commit_callbacks(execute=True):
        count = scorecards.scorecards_publish_approved(
            by=org.manager1, period_kind="month", period_start=JUNE.start, unit=org.team1
        )
    assert count == 2
    statuses = dict(Scorecard.objects.values_list("user_id", "status"))
    assert statuses == {org.rep1a.pk: "published", org.rep1b.pk: "published",
                        org.rep2a.pk: "computed", org.rep3a.pk: "approved"}  # fmt: skip
    told = set(
        Notification.objects.filter(kind=NotificationKind.ASSESSMENT).values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {org.rep1a.pk, org.rep1b.pk}
    # all of the company: only what manager1 may publish (not team 3's)
    assert (
        scorecards.scorecards_publish_approved(
            by=org.manager1, period_kind="month", period_start=JUNE.start
        )
        == 0
    )
    with pytest.raises(PermissionDenied):
        scorecards.scorecards_publish_approved(
            by=org.sup3, period_kind="month", period_start=JUNE.start
        )


@pytest.mark.django_db(transaction=True)
def test_two_heads_submitting_at_once_make_one_request(org, scorecard_policy):
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    scorecards.scorecards_compute(scheme=scheme, period=JUNE)
    card = Scorecard.objects.get(user=org.rep1a)
    results = run_at_once(
        lambda: scorecards.scorecard_submit(scorecard=card, by=org.sup1, assessment="From sup1."),
        lambda: scorecards.scorecard_submit(
            scorecard=card, by=org.manager1, assessment="From manager1."
        ),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], Conflict), results
    card = Scorecard.objects.get(pk=card.pk)
    assert card.status == ScorecardStatus.PENDING
    assert card.assessment in ("From sup1.", "From manager1.")
    assert card.assessed_by_id in (org.sup1.pk, org.manager1.pk)
    assert approval_request_for(card).round == 1


# --- scope --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "seen"),
    [
        ("rep1a", "computed", False), ("rep1a", "approved", False), ("rep1a", "published", True),
        ("rep1b", "published", False), ("sup1", "computed", True), ("manager1", "pending", True),
        ("sup2", "published", False), ("manager2", "approved", False), ("admin", "computed", True),
        ("finance", "published", False),
    ],
)  # fmt: skip
def test_who_sees_rep1as_scorecard(client, org, computed, who, status, seen):
    card = set_status(card_of(computed, org.rep1a), status)
    response = login(client, getattr(org, who)).get(card.get_absolute_url())
    assert response.status_code == (200 if seen else 404)
    listed = client.get("/incentives/scorecards/").content.decode()
    assert (f'data-scorecard="{card.pk}"' in listed) is seen


def test_a_head_does_not_see_his_own_unpublished_card(client, org, scorecard_policy):
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100),
                         role=SchemeRole.SUPERVISOR, name="Supervisors")  # fmt: skip
    scorecards.scorecards_compute(scheme=scheme, period=JUNE)
    own = Scorecard.objects.get(user=org.sup1)
    assert login(client, org.sup1).get(own.get_absolute_url()).status_code == 404
    set_status(own, ScorecardStatus.PUBLISHED)
    assert client.get(own.get_absolute_url()).status_code == 200
