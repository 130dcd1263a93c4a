"""Development application (新客户开发申请): survey, submit, supervisor → manager, return with
the comment, edit lock while pending, guards."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.approvals.models import ApprovalTask
from apps.approvals.services import approval_approve, approval_reject
from apps.core.errors import Conflict
from apps.customers.development import (
    development_application_create,
    development_application_submit,
    development_application_update,
)
from apps.customers.models import Customer, DevelopmentApplication

SURVEY = {
    "registered_capital": Decimal("5000000.00"),
    "years_in_business": 8,
    "main_business": "Industrial valves",
    "financial_standing": "Profitable, low debt",
    "payment_record": "No overdue with other suppliers",
    "development_plan": "Visit the plant, quote the Q3 order",
}


def fresh(application: DevelopmentApplication) -> DevelopmentApplication:
    return DevelopmentApplication.objects.get(pk=application.pk)


def waiting(request) -> set[str]:
    return set(
        ApprovalTask.objects.filter(request=request, status="waiting").values_list(
            "approver__username", flat=True
        )
    )


@pytest.fixture
def application(org, customer):
    return development_application_create(customer=customer, by=org.rep1a, data=SURVEY)


def test_supervisor_then_manager_approval_moves_the_customer_to_developing(org, application):
    # when the rep submits
    request = development_application_submit(application=application, by=org.rep1a)
    # then it is pending and waits for the team's supervisor
    assert DevelopmentApplication.objects.get(pk=application.pk).status == "pending"
    assert waiting(request) == {"sup1"}
    # when the supervisor approves, the manager is asked; the customer is still a prospect
    approval_approve(request=request, by=org.sup1)
    assert waiting(request) == {"manager1"}
    assert Customer.objects.get(pk=application.customer_id).status == "prospect"
    # when the manager approves
    approval_approve(request=request, by=org.manager1)
    # then the application is approved and the customer is developing
    application = fresh(application)
    assert application.status == "approved" and application.approved_at is not None
    assert Customer.objects.get(pk=application.customer_id).status == "developing"


def test_a_return_brings_the_application_back_to_draft_with_the_comment(org, application):
    request = development_application_submit(application=application, by=org.rep1a)
    approval_approve(request=request, by=org.sup1)
    # when the manager returns it
    approval_reject(request=request, by=org.manager1, comment="Add the bank references")
    # then it is a draft again with the comment, and the customer did not move
    application = fresh(application)
    assert application.status == "draft"
    assert application.return_comment == "Add the bank references"
    assert Customer.objects.get(pk=application.customer_id).status == "prospect"
    # and the rep can revise and resubmit: the supervisor is asked again
    development_application_update(
        application=application, by=org.rep1a, data={"references": "ICBC Shenzhen"}
    )
    request = development_application_submit(application=application, by=org.rep1a)
    assert waiting(request) == {"sup1"}
    assert DevelopmentApplication.objects.get(pk=application.pk).return_comment == ""


def test_editing_while_pending_is_a_conflict(org, application):
    development_application_submit(application=application, by=org.rep1a)
    with pytest.raises(Conflict):
        development_application_update(
            application=application, by=org.rep1a, data={"development_plan": "changed"}
        )
    assert (
        DevelopmentApplication.objects.get(pk=application.pk).development_plan
        == SURVEY["development_plan"]
    )


def test_submitting_without_the_plan_is_a_field_error(org, customer):
    application = development_application_create(
        customer=customer, by=org.rep1a, data={"main_business": "x"}
    )
    with pytest.raises(ValidationError) as exc:
        development_application_submit(application=application, by=org.rep1a)
    assert {"development_plan", "financial_standing"} <= set(exc.value.error_dict)
    assert DevelopmentApplication.objects.get(pk=application.pk).status == "draft"


def test_only_the_applicant_submits_or_edits(org, application):
    with pytest.raises(PermissionDenied):
        development_application_submit(application=application, by=org.sup1)
    with pytest.raises(PermissionDenied):
        development_application_update(application=application, by=org.rep1b, data={})


def test_one_open_application_per_customer(org, customer, application):
    with pytest.raises(Conflict):
        development_application_create(customer=customer, by=org.rep1a, data=SURVEY)


def test_only_a_prospect_can_be_applied_for(org, customer):
    Customer.objects.filter(pk=customer.pk).update(status="active")
    customer = Customer.objects.get(pk=customer.pk)
    with pytest.raises(Conflict):
        development_application_create(customer=customer, by=org.rep1a, data=SURVEY)


def test_a_rep_cannot_apply_for_another_reps_customer(org, customer):
    with pytest.raises(PermissionDenied):
        development_application_create(customer=customer, by=org.rep2a, data=SURVEY)


def test_submitting_an_incomplete_survey_through_the_approval_panel_names_what_is_missing(
    client, org, customer
):
    # given a survey without its plan or financial standing
    from django.contrib.contenttypes.models import ContentType

    application = development_application_create(
        customer=customer, by=org.rep1a, data={"main_business": "x"}
    )
    content_type = ContentType.objects.get_for_model(DevelopmentApplication)
    client.force_login(org.rep1a)
    client.cookies["django_language"] = "en"
    # when the panel's Submit button posts (the generic submit view)
    response = client.post(
        f"/approvals/submit/{content_type.pk}/{application.pk}/",
        {"comment": ""},
        HTTP_HX_REQUEST="true",
    )
    # then the panel answers with the reason, not a server error, and nothing was submitted
    assert response.status_code < 500
    assert "Fill this in before submitting." in response.content.decode()
    assert DevelopmentApplication.objects.get(pk=application.pk).status == "draft"
