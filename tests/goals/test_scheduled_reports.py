"""Scheduled attainment reports (apps.goals.mailing): the period covered, who gets one, the
e-mail with its Excel file (cells checked), the in-app notification, exactly once per person and
period (a second run sends nothing), and the Celery task through a real worker."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation
from openpyxl import load_workbook

from apps.goals import mailing, tasks
from apps.goals.choices import Metric, PeriodKind
from apps.goals.models import ScheduledReportRun
from apps.goals.periods import period_of
from apps.notifications.models import Notification
from tests.core.test_celery_worker import queue, wait_for, worker  # noqa: F401 (fixtures)

from .test_closing import NOV, V, target, visits

MONDAY = date(2026, 11, 9)
LAST_WEEK = period_of(PeriodKind.WEEK, date(2026, 11, 2))  # 2–8 November
# rep1a, rep1b, rep2a, rep3a, sup1–3, manager1–2: not admin, finance, erp
RECIPIENTS = 9


def sheet_of(message) -> list[tuple]:
    [(name, content, mimetype)] = message.attachments
    assert name.endswith(".xlsx") and mimetype == mailing.XLSX_CONTENT_TYPE
    return list(load_workbook(BytesIO(content)).active.iter_rows(values_only=True))


def sent_to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def metric_label(metric: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(Metric(metric).label)


def test_report_covers_the_week_or_month_before():
    assert mailing.report_period(PeriodKind.WEEK, MONDAY) == LAST_WEEK
    assert mailing.report_period(PeriodKind.WEEK, date(2026, 11, 10)) == LAST_WEEK  # a retry
    assert mailing.report_period(PeriodKind.MONTH, date(2026, 12, 1)) == NOV
    with pytest.raises(ValueError):
        mailing.report_period(PeriodKind.YEAR, MONDAY)


@pytest.mark.django_db
def test_weekly_report_emails_each_person_their_workbook_once(
    org, django_capture_on_commit_callbacks
):
    # given last week's targets: rep1a 5 visits (2 made), team1 8, rep1b 3 (4 made)
    target(LAST_WEEK, "5", user=org.rep1a)
    target(LAST_WEEK, "3", user=org.rep1b)
    target(LAST_WEEK, "8", unit=org.team1)
    visits(org.rep1a, date(2026, 11, 3), 2)
    visits(org.rep1b, date(2026, 11, 4), 4)

    # when the Monday job runs
    with django_capture_on_commit_callbacks(execute=True):
        sent = mailing.send_attainment_reports(kind=PeriodKind.WEEK, today=MONDAY)

    # then each active rep, supervisor and manager got one e-mail (not admin or finance)
    assert sent == RECIPIENTS == len(mail.outbox)
    assert not sent_to(org.admin) and not sent_to(org.finance)
    # and rep1a's workbook has their own line: 5 visits targeted, 2 made, 40 %, 3 missing
    [message] = sent_to(org.rep1a)
    rows = sheet_of(message)
    assert rows[1] == (org.rep1a.display_name, *([None] * 7))
    assert rows[4][2:] == (metric_label(V), "2026-11-02 – 2026-11-08", 5, 2, 40.0, 3)
    assert len(rows) == 5
    assert "2 / 5.00" in message.body or "2 of 5.00" in message.body  # zh-Hans or English
    assert "40.0%" in message.body
    # and sup1's has team1's line, then rep1a's and rep1b's
    sup_rows = sheet_of(sent_to(org.sup1)[0])[4:]
    assert [(r[1], r[4], r[5]) for r in sup_rows] == [
        ("Team 1", 8, 6),
        *sorted([(org.rep1a.display_name, 5, 2), (org.rep1b.display_name, 3, 4)]),
    ]
    # and manager1 (dept1) sees team1's reps too; manager2 nothing of dept1
    assert len(sheet_of(sent_to(org.manager1)[0])) == 7
    assert sheet_of(sent_to(org.manager2)[0])[4][0] is not None  # "no target" line
    assert all(r[1] != org.rep1a.display_name for r in sheet_of(sent_to(org.manager2)[0]))
    # and each got an in-app notification
    assert Notification.objects.filter(recipient=org.rep1a).count() == 1
    assert Notification.objects.count() == RECIPIENTS

    # when the job runs again (a retry), then nothing more is sent
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = mailing.send_attainment_reports(kind=PeriodKind.WEEK, today=MONDAY)
    assert again == 0 and mail.outbox == []
    assert Notification.objects.count() == RECIPIENTS
    assert ScheduledReportRun.objects.count() == RECIPIENTS


@pytest.mark.django_db
def test_someone_who_wants_general_notices_by_e_mail_gets_the_report_once(
    org, django_capture_on_commit_callbacks
):
    # given rep1a asked for general notices by e-mail too
    from apps.notifications.choices import NotificationKind
    from apps.notifications.models import NotificationPreference

    NotificationPreference.objects.create(user=org.rep1a, kind=NotificationKind.GENERAL, email=True)
    # when the weekly report goes out
    with django_capture_on_commit_callbacks(execute=True):
        mailing.send_attainment_reports(kind=PeriodKind.WEEK, today=MONDAY)
    # then one e-mail (the one with the workbook), and the notice is of its own kind
    assert len(sent_to(org.rep1a)) == 1
    assert sent_to(org.rep1a)[0].attachments
    notice = Notification.objects.get(recipient=org.rep1a)
    assert notice.kind == NotificationKind.ATTAINMENT_REPORT


def test_monthly_report_is_separate_from_the_weekly_one(org, django_capture_on_commit_callbacks):
    # given last week's report was sent
    with django_capture_on_commit_callbacks(execute=True):
        mailing.send_attainment_reports(kind=PeriodKind.WEEK, today=MONDAY)
    mail.outbox.clear()
    target(NOV, "10.50", user=org.rep1a, metric=Metric.CONTRACT_AMOUNT)

    # when the monthly report of November goes out on 1 December
    with django_capture_on_commit_callbacks(execute=True):
        sent = mailing.send_attainment_reports(kind=PeriodKind.MONTH, today=date(2026, 12, 1))

    # then everyone gets it, rep1a with November's contract target and nothing signed
    assert sent == RECIPIENTS == len(mail.outbox)
    line = sheet_of(sent_to(org.rep1a)[0])[4]
    assert line[4:] == (Decimal("10.50"), 0, 0.0, Decimal("10.50"))


@pytest.mark.django_db
def test_inactive_people_and_people_without_email(org, django_capture_on_commit_callbacks):
    # given rep1b left and rep2a has no e-mail address
    org.rep1b.is_active = False
    org.rep1b.save()
    org.rep2a.email = ""
    org.rep2a.save()

    # when the job runs
    with django_capture_on_commit_callbacks(execute=True):
        sent = mailing.send_attainment_reports(kind=PeriodKind.WEEK, today=MONDAY)

    # then rep1b gets nothing, rep2a only the in-app notification
    assert sent == RECIPIENTS - 1
    assert len(mail.outbox) == RECIPIENTS - 2
    assert not Notification.objects.filter(recipient=org.rep1b).exists()
    assert Notification.objects.filter(recipient=org.rep2a).exists()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_weekly_task_in_a_real_worker_sends_once(org, worker, queue):  # noqa: F811
    # given a target of last week for rep1a (the worker's clock is the real one)
    week = period_of(PeriodKind.WEEK, timezone.localdate()).previous()
    target(week, "5", user=org.rep1a)

    # when beat's task is sent through the broker twice
    first = tasks.send_weekly_reports.apply_async(queue=queue).get(timeout=30)
    second = tasks.send_weekly_reports.apply_async(queue=queue).get(timeout=30)

    # then the first run sent each person one e-mail with the file, the second nothing
    assert (first, second) == (RECIPIENTS, 0)
    assert wait_for(lambda: len(mail.outbox) == RECIPIENTS)
    assert len({tuple(m.to) for m in mail.outbox}) == RECIPIENTS
    [message] = sent_to(org.rep1a)
    assert sheet_of(message)[4][4] == 5
    assert ScheduledReportRun.objects.filter(period_start=week.start).count() == RECIPIENTS
    assert Notification.objects.filter(recipient=org.rep1a).count() == 1
