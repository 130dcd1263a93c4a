"""Period reviews (seed 004 flow 1 steps 9–12): the head's summary, submission to the manager,
return with a comment, corrections, resubmission, approval and publication to the unit; who may
do each step; who sees which review (pages and API, 404 outside); query budgets."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from apps.approvals.models import ApprovalTask
from apps.approvals.services import approval_approve, approval_reject, approval_request_for
from apps.core.errors import Conflict
from apps.goals import closing
from apps.goals.choices import PeriodKind, ReviewStatus
from apps.goals.models import PeriodReview
from apps.notifications.models import Notification
from tests.api.conftest import assert_problem, bearer  # noqa: F401 (the API tests' fixture)
from tests.factories import PASSWORD

from .test_closing import OCT, V, goal_defaults, target, visits  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("goal_defaults")]

FIGURES = {
    V: {
        "unit": {"target": "10.00", "actual": "9.00", "attainment": "90.0", "gap": "1.00"},
        "reps": [
            {
                "user": 0,
                "name": "Rep A",
                "target": "6.00",
                "actual": "4.00",
                "attainment": "66.7",
                "gap": "2.00",
            },
        ],
    }
}


def review_of(unit, *, status: str = ReviewStatus.OPEN, start: date = OCT.start, **fields):
    review = PeriodReview.objects.create(
        org_unit=unit, period_kind=PeriodKind.MONTH, period_start=start,
        period_end=OCT.end if start == OCT.start else start.replace(day=28),
        figures=FIGURES, owner=unit.head, **fields,
    )  # fmt: skip
    if status != ReviewStatus.OPEN:
        PeriodReview.objects.filter(pk=review.pk).update(status=status)
        review = PeriodReview.objects.get(pk=review.pk)
    return review


def reload(review: PeriodReview) -> PeriodReview:
    return PeriodReview.objects.get(pk=review.pk)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


# --- the flow ------------------------------------------------------------------------------


def test_review_goes_from_summary_to_return_corrections_approval_and_publication(
    org, django_capture_on_commit_callbacks
):
    # given team1's open review; sup1 writes the summary and submits it
    review = review_of(org.team1)
    closing.review_update(review=review, by=org.sup1, summary="Missed by one visit.")
    request = closing.review_submit(review=review, by=org.sup1)
    assert reload(review).status == ReviewStatus.PENDING
    assert ApprovalTask.objects.filter(request=request, approver=org.manager1).exists()

    # when manager1 returns it with a comment (修正)
    approval_reject(request=request, by=org.manager1, comment="Explain rep A's shortfall.")

    # then it is open again with the comment, and sup1 writes the corrections and resubmits
    review = reload(review)
    assert (review.status, review.return_comment) == (
        ReviewStatus.OPEN, "Explain rep A's shortfall.",
    )  # fmt: skip
    closing.review_update(review=review, by=org.sup1, corrections="Rep A was on leave a week.")
    request = closing.review_submit(review=review, by=org.sup1)
    assert reload(review).status == ReviewStatus.PENDING

    # when manager1 approves, then publishes it
    approval_approve(request=approval_request_for(review), by=org.manager1)
    review = reload(review)
    assert (review.status, review.approved_at is not None) == (ReviewStatus.APPROVED, True)
    with django_capture_on_commit_callbacks(execute=True):
        closing.review_publish(review=review, by=org.manager1)

    # then it is published, and every member of team1 is told (nobody else)
    review = reload(review)
    assert review.status == ReviewStatus.PUBLISHED and review.published_at is not None
    told = set(
        Notification.objects.filter(url=review.get_absolute_url()).values_list(
            "recipient_id", flat=True
        )
    )
    assert {org.sup1.pk, org.rep1a.pk, org.rep1b.pk} <= told
    assert org.rep2a.pk not in told and org.rep3a.pk not in told


def test_submission_without_summary_is_refused(org):
    # given an open review without a summary
    review = review_of(org.team1)

    # when sup1 submits it, then it is refused naming the summary, and stays open
    with pytest.raises(ValidationError) as refused:
        closing.review_submit(review=review, by=org.sup1)
    assert "summary" in refused.value.message_dict
    assert reload(review).status == ReviewStatus.OPEN
    assert approval_request_for(review) is None


def test_resubmission_after_a_return_needs_corrections(org):
    # given a review returned with a comment
    review = review_of(org.team1, summary="S")
    request = closing.review_submit(review=review, by=org.sup1)
    approval_reject(request=request, by=org.manager1, comment="Fix it")

    # when sup1 resubmits without corrections, then it is refused naming them
    with pytest.raises(ValidationError) as refused:
        closing.review_submit(review=reload(review), by=org.sup1)
    assert "corrections" in refused.value.message_dict
    assert reload(review).status == ReviewStatus.OPEN


def test_corrections_before_a_return_are_refused(org):
    # given a review never returned
    review = review_of(org.team1)

    # when sup1 writes corrections, then they are refused
    with pytest.raises(ValidationError) as refused:
        closing.review_update(review=review, by=org.sup1, corrections="Nothing to correct")
    assert "corrections" in refused.value.message_dict


@pytest.mark.parametrize("who", ["rep1a", "sup2", "manager1"])
def test_only_the_units_head_can_write_or_submit(org, who):
    # given team1's review with a summary
    review = review_of(org.team1, summary="S")
    user = getattr(org, who)

    # when someone else writes or submits it, then it is refused and nothing changes
    with pytest.raises(PermissionDenied):
        closing.review_update(review=review, by=user, summary="Mine")
    with pytest.raises(PermissionDenied):
        closing.review_submit(review=review, by=user)
    review = reload(review)
    assert (review.summary, review.status) == ("S", ReviewStatus.OPEN)


def test_pending_review_cannot_be_edited(org):
    # given a submitted review
    review = review_of(org.team1, summary="S")
    closing.review_submit(review=review, by=org.sup1)

    # when sup1 edits it, then it is refused
    with pytest.raises(Conflict):
        closing.review_update(review=reload(review), by=org.sup1, summary="Changed")
    assert reload(review).summary == "S"


def test_only_an_approved_review_is_published(org):
    # given an open review
    review = review_of(org.team1)

    # when manager1 publishes it, then it is refused
    with pytest.raises(Conflict):
        closing.review_publish(review=review, by=org.manager1)
    assert reload(review).status == ReviewStatus.OPEN


@pytest.mark.parametrize("who", ["sup1", "rep1a", "manager2", "finance"])
def test_only_a_manager_above_or_an_admin_publishes(org, who):
    # given team1's approved review
    review = review_of(org.team1, status=ReviewStatus.APPROVED)

    # when someone not a manager above team1 publishes it, then it is refused
    with pytest.raises(PermissionDenied):
        closing.review_publish(review=review, by=getattr(org, who))
    assert reload(review).status == ReviewStatus.APPROVED

    # and an admin may
    closing.review_publish(review=review, by=org.admin)
    assert reload(review).status == ReviewStatus.PUBLISHED


# --- who sees what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "seen"),
    [
        ("sup1", ReviewStatus.OPEN, True),
        ("manager1", ReviewStatus.OPEN, True),
        ("admin", ReviewStatus.OPEN, True),
        ("rep1a", ReviewStatus.OPEN, False),  # a member sees it once published
        ("rep1a", ReviewStatus.PUBLISHED, True),
        ("rep1b", ReviewStatus.PUBLISHED, True),
        ("rep2a", ReviewStatus.PUBLISHED, False),  # another team
        ("rep3a", ReviewStatus.PUBLISHED, False),
        ("sup2", ReviewStatus.OPEN, False),
        ("manager2", ReviewStatus.PUBLISHED, False),
    ],
)
def test_review_page_is_seen_by_its_unit_and_heads_above_only(client, org, who, status, seen):
    # given team1's review in `status`
    review = review_of(org.team1, status=status)

    # when `who` opens it and the list
    login(client, getattr(org, who))
    detail = client.get(reverse("goals:review_detail", args=[review.pk]))
    listed = client.get(reverse("goals:review_list"))

    # then they see it, or get a 404 and an empty list
    assert detail.status_code == (200 if seen else 404)
    assert (f'data-review="{review.pk}"' in listed.content.decode()) is seen


def test_members_see_the_published_review_of_the_department_above(client, org):
    # given dept1's published review
    review = review_of(org.dept1, status=ReviewStatus.PUBLISHED)

    # then rep1a (team1, in dept1) sees it, rep3a (dept2) does not
    assert login(client, org.rep1a).get(review.get_absolute_url()).status_code == 200
    client.logout()
    assert login(client, org.rep3a).get(review.get_absolute_url()).status_code == 404


# --- pages ---------------------------------------------------------------------------------


def test_detail_shows_figures_form_and_approval_panel_to_the_head(client, org):
    # given team1's open review
    review = review_of(org.team1)

    # when sup1 opens it
    page = login(client, org.sup1).get(review.get_absolute_url()).content.decode()

    # then the figures with their bars, the summary form and the approval panel are there
    assert 'data-metric="visits"' in page and "data-attainment>90.0%" in page
    assert "Rep A" in page and 'style="width: 66%"' in page
    assert 'id="review-form"' in page and 'name="corrections"' not in page
    assert 'id="approval-panel"' in page
    assert 'data-testid="publish-review"' not in page


def test_detail_has_no_form_for_the_manager(client, org):
    review = review_of(org.team1)
    page = login(client, org.manager1).get(review.get_absolute_url()).content.decode()
    assert 'id="review-form"' not in page and 'id="review-summary"' in page


def test_head_saves_and_submits_from_the_page(client, org):
    # given team1's open review
    review = review_of(org.team1)
    login(client, org.sup1)
    url = reverse("goals:review_edit", args=[review.pk])

    # when sup1 saves and submits with an empty summary, then the form says so
    refused = client.post(url, {"summary": "  ", "submit": "1"})
    assert refused.status_code == 400
    assert 'data-field="summary"' in refused.content.decode()
    assert reload(review).status == ReviewStatus.OPEN

    # when sup1 saves and submits with a summary, then it is pending
    response = client.post(url, {"summary": "We fell short by one visit.", "submit": "1"})
    assert response.status_code == 302
    review = reload(review)
    assert (review.summary, review.status) == ("We fell short by one visit.", ReviewStatus.PENDING)


def test_returned_review_page_asks_for_corrections(client, org):
    # given a review returned by manager1
    review = review_of(org.team1, summary="S")
    request = closing.review_submit(review=review, by=org.sup1)
    approval_reject(request=request, by=org.manager1, comment="Say why")

    # when sup1 opens it
    page = login(client, org.sup1).get(review.get_absolute_url()).content.decode()

    # then the comment and the corrections field are shown
    assert 'id="return-comment"' in page and "Say why" in page
    assert 'name="corrections"' in page


def test_manager_publishes_from_the_page(client, org):
    # given team1's approved review
    review = review_of(org.team1, status=ReviewStatus.APPROVED)
    login(client, org.manager1)
    assert 'data-testid="publish-review"' in client.get(review.get_absolute_url()).content.decode()

    # when manager1 publishes it
    response = client.post(reverse("goals:review_publish", args=[review.pk]))

    # then it is published
    assert response.status_code == 302
    assert reload(review).status == ReviewStatus.PUBLISHED


def test_supervisor_publishing_gets_a_message_not_a_change(client, org):
    review = review_of(org.team1, status=ReviewStatus.APPROVED)
    login(client, org.sup1)
    response = client.post(reverse("goals:review_publish", args=[review.pk]), follow=True)
    assert response.status_code == 200
    assert reload(review).status == ReviewStatus.APPROVED


def test_review_list_query_count_stays_flat(client, org, django_assert_max_num_queries):
    # given many reviews over months and units
    for month in range(1, 13):
        for unit in (org.team1, org.team2, org.team3, org.dept1):
            review_of(unit, start=date(2025, month, 1))
    login(client, org.admin)

    # when the admin lists them (a page of 50)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("goals:review_list"))

    # then a page is shown with a next link
    assert response.status_code == 200
    assert response.content.decode().count("data-review=") == 48


def test_close_then_review_page_shows_the_closed_figures(client, org):
    # given October closed for team1 with rep1a 4 of 6 visits
    target(OCT, "6", user=org.rep1a)
    visits(org.rep1a, date(2026, 10, 5), 4)
    closing.period_close(today=date(2026, 11, 1))
    review = PeriodReview.objects.get(org_unit=org.team1)

    # when sup1 opens the review
    page = login(client, org.sup1).get(review.get_absolute_url()).content.decode()

    # then rep1a's line reads 4 of 6, 66.7 %
    assert f'data-user="{org.rep1a.pk}"' in page and "66.7%" in page


# --- API -----------------------------------------------------------------------------------


def test_api_lists_and_reads_reviews_in_scope(org, bearer):  # noqa: F811
    review = review_of(org.team1)
    body = bearer(org.sup1).get("/api/v1/period-reviews/").json()
    assert [item["id"] for item in body["results"]] == [review.pk]
    detail = bearer(org.sup1).get(f"/api/v1/period-reviews/{review.pk}/").json()
    assert detail["figures"] == FIGURES
    assert detail["available_transitions"] == ["edit", "submit"]


@pytest.mark.parametrize("who", ["rep1a", "rep3a", "sup2", "manager2"])
def test_api_review_outside_scope_is_404(org, bearer, who):  # noqa: F811
    review = review_of(org.team1)
    client = bearer(getattr(org, who))
    assert_problem(client.get(f"/api/v1/period-reviews/{review.pk}/"), 404, "not-found")
    assert_problem(client.post(f"/api/v1/period-reviews/{review.pk}/submit/"), 404, "not-found")
    assert client.get("/api/v1/period-reviews/").json()["results"] == []


def test_api_patch_submit_and_publish(org, bearer):  # noqa: F811
    # given team1's open review
    review = review_of(org.team1)
    url = f"/api/v1/period-reviews/{review.pk}/"

    # when sup1 submits it without a summary, then 400 naming it
    body = assert_problem(bearer(org.sup1).post(f"{url}submit/"), 400, "validation-error")
    assert [error["field"] for error in body["errors"]] == ["summary"]

    # when sup1 writes it and submits
    patched = bearer(org.sup1).patch(url, {"summary": "Close."}, format="json")
    assert patched.status_code == 200 and patched.json()["summary"] == "Close."
    submitted = bearer(org.sup1).post(f"{url}submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending"

    # then publishing before approval is a 409, a head's submit a 403
    assert_problem(bearer(org.manager1).post(f"{url}publish/"), 409, "conflict")
    approval_approve(request=approval_request_for(review), by=org.manager1)
    assert_problem(bearer(org.sup1).post(f"{url}publish/"), 403, "permission-denied")
    published = bearer(org.manager1).post(f"{url}publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"


def test_api_manager_cannot_submit_the_heads_review(org, bearer):  # noqa: F811
    review = review_of(org.team1, summary="S")
    response = bearer(org.manager1).post(f"/api/v1/period-reviews/{review.pk}/submit/")
    assert_problem(response, 403, "permission-denied")


def test_api_list_query_count_stays_flat(org, bearer, django_assert_max_num_queries):  # noqa: F811
    for month in range(1, 13):
        for unit in (org.team1, org.team2):
            review_of(unit, start=date(2025, month, 1))
    client = bearer(org.manager1)
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/period-reviews/")
    assert response.status_code == 200 and len(response.json()["results"]) == 24
