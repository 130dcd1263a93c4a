"""Incentives jobs (Celery): thin wrappers over the services, with today's business date (the
project's TIME_ZONE). Each task is named explicitly so that beat and the worker agree."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import commissions, contests, scorecards, surveys


@shared_task(name="apps.incentives.tasks.compute_scorecards")
def compute_scorecards() -> dict[str, int]:
    """02:00: the scorecards of the periods that ended (and a refresh of those not yet
    submitted)."""
    return scorecards.scorecards_compute_due(today=timezone.localdate())


@shared_task(name="apps.incentives.tasks.compute_commissions")
def compute_commissions() -> dict[str, int]:
    """02:15: this month's and last month's draft commission statements, with the adjustments
    of closed months."""
    return commissions.statements_compute_due(today=timezone.localdate())


@shared_task(name="apps.incentives.tasks.finalize_contests")
def finalize_contests() -> int:
    """00:50: keep the final ranking of the contests that ended."""
    return contests.contests_finalize(today=timezone.localdate())


@shared_task(name="apps.incentives.tasks.send_survey")
def send_survey(survey_id: int, token: str) -> None:
    """Send one survey's link by e-mail (queued after the commit that created it)."""
    surveys.survey_send(survey_id=survey_id, token=token)
