"""Query budgets of the notification lists (issue 10): the notifications page, the bell's menu
and the API cost the same number of queries with 2 notifications as with 10 from other
actors, read or not."""

from __future__ import annotations

from itertools import count

import pytest

from apps.notifications.models import Notification
from apps.notifications.services import notify
from tests.budgets import ListCase, Marker

_numbers = count(1)


def _notifications(org, n: int) -> list[Notification]:
    """n notifications of rep1a, from sup1, manager1 and no one in turn, every other one read."""
    actors = (org.sup1, org.manager1, None)
    rows = []
    for i in range(n):
        [notification] = notify(
            recipients=[org.rep1a],
            title=f"Budget note {next(_numbers)}",
            url="/customers/",
            actor=actors[i % 3],
        )
        if i % 2:
            Notification.objects.filter(pk=notification.pk).update(read_at=notification.created_at)
        rows.append(notification)
    return rows


def add_page(org, n: int) -> list[Marker]:
    return [f"/notifications/{x.pk}/open/" for x in _notifications(org, n)]


def add_api(org, n: int) -> list[Marker]:
    return [x.pk for x in _notifications(org, n)]


LISTS = {
    "notifications:list": ListCase("/notifications/", "rep1a", add_page, budget=4),
    "notifications:menu": ListCase("/notifications/menu/", "rep1a", add_page, budget=3),
    "api:notification-list": ListCase("/api/v1/notifications/", "rep1a", add_api, budget=2),
}


@pytest.mark.parametrize("name", LISTS)
def test_notification_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
