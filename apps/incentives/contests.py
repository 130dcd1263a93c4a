"""Sales contests (销售竞赛, seed 001 绩效评估与激励: "销售竞赛"): writes.

- `contest_create` / `contest_update`: an admin, or a manager for the units they head, sets a
  time-boxed contest on one metric for a set of teams; it may be changed until it starts.
- `contests_finalize` (the nightly job, 00:50): every contest that ended before today and has
  no final ranking yet gets its ranking kept in `ContestStanding`, computed as the live
  leaderboard of its last day (`selectors_contests.live_leaderboard`); the participants are
  notified. Idempotent and safe on several workers: a contest is locked (SKIP LOCKED) and
  skipped once final, so a second run keeps nothing twice and notifies nobody twice.

Who sees a contest, who takes part and how the value is counted: `selectors_contests`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import OrgUnit, User
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.goals.choices import Metric
from apps.notifications.choices import NotificationKind
from apps.notifications.services import notify

from . import selectors_contests as selectors
from .models import Contest, ContestStanding

FINALIZE_JOB = "contests_finalize"
NAME_MAX = 200
DESCRIPTION_MAX = 5000


def _clean(
    *,
    by: User,
    name: str,
    description: str,
    metric: str,
    starts_on: date | None,
    ends_on: date | None,
    units: Sequence[OrgUnit | int],
) -> tuple[str, str, list[OrgUnit]]:
    """The checked values, or a ValidationError naming each wrong field."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    description = (description or "").strip()
    if not name:
        errors["name"] = _("Give the contest a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("At most %(n)d characters.") % {"n": NAME_MAX}
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("At most %(n)d characters.") % {"n": DESCRIPTION_MAX}
    if metric not in Metric.values:
        errors["metric"] = _("Choose the metric the contest ranks on.")
    if starts_on is None:
        errors["starts_on"] = _("Enter the first day of the contest.")
    if ends_on is None:
        errors["ends_on"] = _("Enter the last day of the contest.")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The last day is before the first day.")
    ids = {unit.pk if isinstance(unit, OrgUnit) else int(unit) for unit in units or []}
    chosen: list[OrgUnit] = []
    if not ids:
        errors["units"] = _("Choose at least one team.")
    else:
        allowed = {u.pk: u for u in selectors.contest_units_for(by).filter(pk__in=ids)}
        outside = ids - set(allowed)
        if outside:
            errors["units"] = _("Choose teams within the units you head.")
        chosen = [allowed[pk] for pk in sorted(allowed)]
    if errors:
        raise ValidationError(errors)
    return name, description, chosen


@transaction.atomic
def contest_create(
    *,
    by: User,
    name: str,
    description: str = "",
    metric: str,
    starts_on: date | None,
    ends_on: date | None,
    units: Sequence[OrgUnit | int],
) -> Contest:
    """Set a sales contest (销售竞赛) on `metric` for the reps of `units` (and the units below)
    from `starts_on` to `ends_on`. Admins for any unit, managers for the units they head."""
    if not selectors.can_create_contest(by):
        raise PermissionDenied(_("Only an administrator or a sales manager can set a contest."))
    name, description, chosen = _clean(
        by=by, name=name, description=description, metric=metric, starts_on=starts_on,
        ends_on=ends_on, units=units,
    )  # fmt: skip
    contest = Contest.objects.create(
        name=name, description=description, metric=metric, starts_on=starts_on,
        ends_on=ends_on, created_by=by,
    )  # fmt: skip
    contest.units.set(chosen)
    return contest


@transaction.atomic
def contest_update(
    *,
    contest: Contest,
    by: User,
    name: str,
    description: str = "",
    metric: str,
    starts_on: date | None,
    ends_on: date | None,
    units: Sequence[OrgUnit | int],
) -> Contest:
    """Change a contest that has not started yet (its rules are fixed once it runs): an
    admin, or a manager heading all of its units."""
    contest = Contest.objects.select_for_update().get(pk=contest.pk)
    if not selectors.can_change_contest(by, contest):
        raise PermissionDenied(_("You cannot change this contest."))
    if selectors.contest_state(contest, timezone.localdate()) != selectors.UPCOMING:
        raise Conflict(
            _("A contest cannot be changed once it has started."), code="contest_started"
        )
    name, description, chosen = _clean(
        by=by, name=name, description=description, metric=metric, starts_on=starts_on,
        ends_on=ends_on, units=units,
    )  # fmt: skip
    contest.name, contest.description, contest.metric = name, description, metric
    contest.starts_on, contest.ends_on = starts_on, ends_on
    contest.save()
    contest.units.set(chosen)
    return contest


# --- the final ranking ----------------------------------------------------------------------


def _notify_by_language(recipients: Iterable[User], contest: Contest) -> None:
    """One notification per participant, worded in their language."""
    groups: dict[str, list[User]] = defaultdict(list)
    for user in recipients:
        groups[user.language or settings.LANGUAGE_CODE].append(user)
    for language, group in groups.items():
        with translation.override(language):
            notify(
                recipients=group,
                kind=NotificationKind.CONTEST,
                title=_("The final ranking of the contest “%(name)s” is out")
                % {"name": contest.name},
                url=contest.get_absolute_url(),
            )


def _finalize_one(pk: int, today: date) -> bool:
    with transaction.atomic():
        contest = (
            Contest.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, finalized_at__isnull=True, ends_on__lt=today)
            .first()
        )
        if contest is None:  # final already, or another worker is keeping it
            return False
        board = selectors.live_leaderboard(contest, today=today)
        ContestStanding.objects.bulk_create(
            ContestStanding(
                contest=contest,
                user_id=row.user_id,
                org_unit_id=row.unit_id,
                value=row.value,
                rank=row.rank,
            )
            for row in board.rows
        )
        contest.finalized_at = timezone.now()
        contest.save(update_fields=["finalized_at", "updated_at"])
        people = User.objects.filter(pk__in=[row.user_id for row in board.rows])
        _notify_by_language(people, contest)
    return True


def contests_finalize(*, today: date) -> int:
    """Keep the final ranking of every contest that ended before `today` and has none yet;
    notify its participants. Returns how many contests it finalized (0 on a second run)."""
    due = list(
        Contest.objects.filter(ends_on__lt=today, finalized_at__isnull=True)
        .order_by("ends_on", "id")
        .values_list("pk", flat=True)
    )
    done = 0
    with history_context(job=FINALIZE_JOB):
        for pk in due:
            # One transaction per contest: a failure in one leaves the others final.
            done += _finalize_one(pk, today)
    return done
