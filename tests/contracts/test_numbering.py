"""Contract numbers: consecutive per year, no gaps, also when created at the same moment or
when a creation rolls back."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.contracts.numbering import format_contract_number, next_contract_number


def test_numbers_are_consecutive_per_year_and_restart_each_year(db):
    with transaction.atomic():
        numbers = [next_contract_number(2026) for _ in range(3)]
        other_year = next_contract_number(2027)
    assert numbers == ["HT-2026-000001", "HT-2026-000002", "HT-2026-000003"]
    assert other_year == "HT-2027-000001"


def test_a_rolled_back_creation_leaves_no_gap(db):
    # given a creation that fails after taking a number
    with pytest.raises(RuntimeError), transaction.atomic():
        next_contract_number(2026)
        raise RuntimeError("the contract could not be saved")
    # when the next contract is created, then it takes the same number
    with transaction.atomic():
        assert next_contract_number(2026) == format_contract_number(2026, 1)


@pytest.mark.django_db(transaction=True)
def test_a_number_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        next_contract_number(2026)


@pytest.mark.django_db(transaction=True)
def test_two_creations_at_the_same_moment_get_consecutive_numbers():
    # given two transactions that take a number at the same moment and hold it a little
    barrier = threading.Barrier(2)
    numbers: list[str] = []
    errors: list[Exception] = []

    def create() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                numbers.append(next_contract_number(2026))
                time.sleep(0.2)  # still creating the contract while the other one asks
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then both succeeded with different, consecutive numbers
    assert not errors
    assert sorted(numbers) == ["HT-2026-000001", "HT-2026-000002"]
