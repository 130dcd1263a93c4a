"""Customer satisfaction surveys (客户满意度, seed 000 销售绩效评估 / seed 001 客户满意度): writes.

**When** (`survey_open_for_contract`, `survey_open_for_visit`): a contract completes
(`contract_complete`) or a visit record with the purpose "service" is logged
(`visit_record_create`): one survey per contract or visit (the database's unique constraints)
to the customer's primary contact with an e-mail, else to the customer's e-mail; with neither,
no survey and nothing fails. The survey belongs to the customer's owner (else the contract's /
the visit's rep). The row is written in the caller's transaction and the e-mail is queued
(`tasks.send_survey`) when that transaction commits: a rolled-back completion sends nothing.

**The link** (`/survey/<token>/`, no login): a random token (`secrets.token_urlsafe(32)`) of
which only the SHA-256 is stored; it expires after ``SURVEY_LINK_DAYS`` days (default 14).
`survey_answer` locks the row: answered once (a second submission changes nothing), never
after it expired.

**A low score** (`is_low_score`): a satisfaction of 1 or 2, or a satisfaction of 3 from
someone who would not recommend us (likelihood to recommend 0–6, a detractor). It opens a
follow-up visit plan (purpose "problem handling", tomorrow, its objectives quoting the score
and the comment) for the survey's owner, linked in `follow_up_plan`, and notifies the owner's
direct supervisor (and the owner).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.selectors import seller_name, supervisor_of
from apps.core.errors import Conflict
from apps.customers.models import Contact, Customer
from apps.notifications.choices import NotificationKind
from apps.notifications.services import notify

from .choices import SurveyStatus, SurveyTrigger
from .models import SatisfactionSurvey

logger = logging.getLogger(__name__)

DEFAULT_LINK_DAYS = 14
COMMENT_MAX = 2000
# The low-score rule (see the module docstring).
LOW_SCORE = 2
DETRACTOR_NPS = 6
LOW_SCORE_IF_DETRACTOR = 3
FOLLOW_UP_IN_DAYS = 1


class SurveyAnswered(Conflict):
    """The survey was answered already: the first answer stands."""


class SurveyExpired(Conflict):
    """The link expired before it was answered."""


def link_days() -> int:
    return int(getattr(settings, "SURVEY_LINK_DAYS", DEFAULT_LINK_DAYS))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def public_url(token: str) -> str:
    """The absolute link of a survey, from the site's base address (``SITE_URL``) the e-mails
    of the notifications use: a job has no request to build it from."""
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{reverse('survey:answer', args=[token])}"


def is_low_score(score: int, nps: int | None) -> bool:
    """Satisfaction 1–2, or 3 with a likelihood to recommend of 0–6."""
    if score <= LOW_SCORE:
        return True
    return nps is not None and nps <= DETRACTOR_NPS and score <= LOW_SCORE_IF_DETRACTOR


def is_expired(survey: SatisfactionSurvey, now: datetime | None = None) -> bool:
    return (now or timezone.now()) >= survey.expires_at


# --- opening a survey -------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedSurvey:
    survey: SatisfactionSurvey
    token: str  # the only copy: it goes into the e-mail and is never stored


def recipient_of(customer: Customer) -> tuple[Contact | None, str]:
    """Whom the survey goes to: the primary contact with an e-mail, else the customer's own
    e-mail; ("", None) when there is neither."""
    contact = (
        Contact.objects.filter(customer=customer, is_primary=True)
        .exclude(email="")
        .order_by("id")
        .first()
    )
    if contact is not None:
        return contact, contact.email
    return None, (customer.email or "").strip()


def survey_build(
    *,
    trigger: str,
    customer: Customer,
    rep_id: int,
    contract_id: int | None = None,
    visit_record_id: int | None = None,
    sent_at: datetime | None = None,
) -> OpenedSurvey | None:
    """Write a survey row with a fresh token (nothing is sent). None when the customer has no
    e-mail to send it to, or the contract / visit has its survey already."""
    contact, email = recipient_of(customer)
    if not email:
        return None
    token = secrets.token_urlsafe(32)
    sent_at = sent_at or timezone.now()
    survey = SatisfactionSurvey(
        customer=customer, contact=contact, email=email,
        owner_id=customer.owner_id or rep_id, trigger=trigger, contract_id=contract_id,
        visit_record_id=visit_record_id, token_hash=token_hash(token), status=SurveyStatus.SENT,
        sent_at=sent_at, expires_at=sent_at + timedelta(days=link_days()),
    )  # fmt: skip
    try:
        # A savepoint: a survey already there for this contract / visit leaves the caller's
        # transaction (the completion) intact.
        with transaction.atomic():
            survey.save()
    except IntegrityError:
        return None
    return OpenedSurvey(survey, token)


def _queue_send(survey_id: int, token: str) -> None:
    from . import tasks  # tasks imports this module

    options: dict = {"args": [survey_id, token]}
    queue = getattr(settings, "SURVEY_QUEUE", None)
    if queue:
        options["queue"] = queue
    tasks.send_survey.apply_async(**options)


def _open(**kwargs) -> SatisfactionSurvey | None:
    opened = survey_build(**kwargs)
    if opened is None:
        return None
    survey_id, token = opened.survey.pk, opened.token

    def send_survey_after_commit() -> None:
        _queue_send(survey_id, token)

    # After the commit: a rolled-back completion sends nothing. `robust`: a broker that is
    # down does not turn the committed completion into an error page.
    transaction.on_commit(send_survey_after_commit, robust=True)
    return opened.survey


def survey_open_for_contract(*, contract) -> SatisfactionSurvey | None:
    """The survey after a completed contract (called inside `contract_complete`)."""
    if SatisfactionSurvey.objects.filter(contract_id=contract.pk).exists():
        return None
    return _open(
        trigger=SurveyTrigger.CONTRACT_COMPLETED, customer=contract.customer,
        rep_id=contract.owner_id, contract_id=contract.pk,
    )  # fmt: skip


def survey_open_for_visit(*, record) -> SatisfactionSurvey | None:
    """The survey after a service visit (called inside `visit_record_create`); a visit of
    another purpose, or to a lead, has none."""
    from apps.visits.choices import VisitPurpose

    if record.purpose != VisitPurpose.SERVICE or record.customer_id is None:
        return None
    if SatisfactionSurvey.objects.filter(visit_record_id=record.pk).exists():
        return None
    return _open(
        trigger=SurveyTrigger.SERVICE_VISIT, customer=record.customer, rep_id=record.owner_id,
        visit_record_id=record.pk,
    )  # fmt: skip


# --- sending ----------------------------------------------------------------------------------


def subject_of(survey: SatisfactionSurvey) -> str:
    return _("%(seller)s: how satisfied are you with our service?") % {"seller": seller_name()}


def survey_send(*, survey_id: int, token: str) -> bool:
    """E-mail the survey's link to its recipient, in the company's language (zh-Hans by
    default; the page has a language switch). Nothing for a survey answered or expired
    meanwhile, or a token that is not the survey's. Returns whether it sent."""
    survey = (
        SatisfactionSurvey.objects.select_related(
            "customer", "contact", "owner", "contract", "visit_record"
        )
        .filter(pk=survey_id)
        .first()
    )
    if survey is None or survey.status != SurveyStatus.SENT or is_expired(survey):
        return False
    if not hmac.compare_digest(token_hash(token), survey.token_hash):
        logger.warning("survey %s: the token to send is not the survey's", survey_id)
        return False
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "survey": survey,
            "seller": seller_name(),
            "url": public_url(token),
            "about": about(survey),
            "greeting": survey.contact.name if survey.contact else survey.customer.name,
        }
        message = EmailMessage(
            subject=subject_of(survey),
            body=render_to_string("incentives/surveys/email.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[survey.email],
        )
    message.send()
    return True


def about(survey: SatisfactionSurvey) -> str:
    """What the survey is about, for the customer (no amounts): the contract's number and
    title, or the service visit's day."""
    if survey.contract_id and survey.contract is not None:
        return _("contract %(number)s “%(title)s”") % {
            "number": survey.contract.number,
            "title": survey.contract.title,
        }
    if survey.visit_record_id and survey.visit_record is not None:
        day = timezone.localtime(survey.visit_record.started_at).date()
        return _("our service visit on %(day)s") % {"day": day.isoformat()}
    return _("our cooperation")


# --- answering --------------------------------------------------------------------------------


def _check_answer(score, nps, comment) -> tuple[int, int | None, str]:
    errors: dict[str, str] = {}
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = None
    if score is None or not 1 <= score <= 5:
        errors["score"] = _("Choose a satisfaction from 1 to 5.")
    if nps in ("", None):
        nps = None
    else:
        try:
            nps = int(nps)
        except (TypeError, ValueError):
            nps = -1
        if not 0 <= nps <= 10:
            errors["nps"] = _("Choose how likely you are to recommend us, from 0 to 10.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("At most %(n)d characters.") % {"n": COMMENT_MAX}
    if errors:
        raise ValidationError(errors)
    return score, nps, comment


@transaction.atomic
def survey_answer(
    *, token: str, score: int, nps: int | None = None, comment: str = ""
) -> SatisfactionSurvey:
    """Record the customer's answer to the survey of `token` (no login). The row is locked, so
    two tabs submitting at once record one answer: the second finds it answered
    (`SurveyAnswered`, nothing changes). An expired link records nothing (`SurveyExpired`); an
    unknown token is `SatisfactionSurvey.DoesNotExist`. A low score opens the follow-up."""
    survey = (
        SatisfactionSurvey.objects.select_for_update(of=("self",))
        .select_related("customer", "owner")
        .get(token_hash=token_hash(token))
    )
    if survey.status == SurveyStatus.ANSWERED:
        raise SurveyAnswered(_("This survey was answered already. Thank you!"), code="answered")
    now = timezone.now()
    if is_expired(survey, now):
        raise SurveyExpired(_("This survey link has expired."), code="expired")
    score, nps, comment = _check_answer(score, nps, comment)
    survey.score, survey.nps, survey.comment = score, nps, comment
    survey.status, survey.answered_at = SurveyStatus.ANSWERED, now
    survey.save()
    if is_low_score(score, nps):
        _follow_up(survey)
    return survey


def _follow_up(survey: SatisfactionSurvey) -> None:
    """The follow-up of a low score: a visit plan for the owner and a notice to the owner's
    supervisor (and the owner). The plan goes through the visits service as the owner
    planning their own visit; when it cannot (the owner left, or no longer sees the
    customer) the supervisor is still told."""
    from apps.visits.choices import VisitPurpose
    from apps.visits.services import visit_plan_create

    owner: User = survey.owner
    language = owner.language or settings.LANGUAGE_CODE
    with translation.override(language):
        objectives = _(
            "Follow up a low satisfaction score: %(score)s/5%(nps)s. Customer's comment: "
            "%(comment)s"
        ) % {
            "score": survey.score,
            "nps": ""
            if survey.nps is None
            else _(", likely to recommend %(nps)s/10") % {"nps": survey.nps},
            "comment": survey.comment or _("(none)"),
        }
    try:
        plan = visit_plan_create(
            by=owner, owner=owner, customer=survey.customer,
            planned_date=timezone.localdate() + timedelta(days=FOLLOW_UP_IN_DAYS),
            purpose=VisitPurpose.PROBLEM, objectives=objectives,
        )  # fmt: skip
    except (PermissionDenied, ValidationError, Conflict) as exc:
        logger.info("survey %s: no follow-up plan for its owner (%s)", survey.pk, exc)
        plan = None
    if plan is not None:
        survey.follow_up_plan = plan
        survey.save(update_fields=["follow_up_plan", "updated_at"])
    for person in {p.pk: p for p in (supervisor_of(owner), owner) if p is not None}.values():
        with translation.override(person.language or settings.LANGUAGE_CODE):
            notify(
                recipients=[person],
                kind=NotificationKind.SATISFACTION_ALERT,
                title=_("Low satisfaction from %(customer)s: %(score)s/5")
                % {"customer": survey.customer.name, "score": survey.score},
                body=survey.comment,
                url=survey.get_absolute_url(),
            )
