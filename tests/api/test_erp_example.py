"""The worked example of docs/erp-integration.md, `examples/erp_sync.py`, run as an ERP would
run it: a separate process against a live server, with a token of the integration user and a
webhook subscription pointing at the example's own receiver; deliveries by a real Celery worker.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.api.services import token_issue
from apps.customers.models import Customer
from apps.receivables.models import Payment
from apps.webhooks import services as webhooks
from tests.core.test_celery_worker import queue, worker  # noqa: F401 (fixtures)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "erp_sync.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_example(live_server, token: str, *args: str, secret: str = "") -> str:
    env = {**os.environ, "SALESCTL_URL": live_server.url, "SALESCTL_TOKEN": token}
    if secret:
        env["SALESCTL_WEBHOOK_SECRET"] = secret
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        env=env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_example_syncs_customers_posts_payments_and_verifies_a_webhook(
    org,
    live_server,
    settings,
    tmp_path,
    worker,  # noqa: F811
    queue,  # noqa: F811
):
    # given customers of two teams, the ERP's token, and a subscription to payment.recorded
    # at the address where the example will listen, delivered by this test's worker
    settings.API_SYNC_SETTLE_SECONDS = 0  # a sync serves a change at once
    settings.WEBHOOK_QUEUE = queue
    customers = [
        Customer.objects.create(owner=owner, name=f"客户{n}", external_id=f"K3-C-{n}")
        for n, owner in enumerate([org.rep1a, org.rep1a, org.rep2a, org.rep3a], start=1)
    ]
    _token, raw = token_issue(user=org.erp, name="ERP", days=1)
    port = free_port()
    subscription = webhooks.subscription_create(
        by=org.admin,
        data={
            "name": "ERP",
            "url": f"http://127.0.0.1:{port}/",
            "event_types": ["payment.recorded"],
        },
    )
    state = tmp_path / "state.json"

    # when the example runs a first time: everything is new
    first = run_example(live_server, raw, "--state", str(state))

    # then it synced every customer the integration user sees: the whole company
    assert re.search(r"^customers: (\d+) synced", first, re.M).group(1) == str(
        Customer.objects.count()
    )

    # given one customer changed since, and two payments the bank received
    renamed = Customer.objects.filter(pk=customers[2].pk)
    renamed.update(name="客户3（更名）", updated_at=timezone.now())
    payments = tmp_path / "payments.csv"
    received = timezone.localdate() - timedelta(days=2)
    payments.write_text(
        "customer,customer_external_id,amount,received_on,method,bank_reference\n"
        f"{customers[0].pk},,1200.00,{received},bank_transfer,BR-1\n"
        f",K3-C-4,800.50,{received},cheque,BR-2\n",
        encoding="utf-8",
    )

    # when it runs again, posting the payments and waiting for one verified webhook
    second = run_example(
        live_server, raw, "--state", str(state), "--payments", str(payments),
        "--listen", f"127.0.0.1:{port}", "--events", "1", "--wait", "30",
        secret=subscription.secret,
    )  # fmt: skip

    # then it pulled only the changed customer (the high-water mark held) into the ERP's copy
    assert re.search(r"^customers: 1 synced, 4 in the ERP's copy", second, re.M), second
    copy = json.loads(state.read_text())["customers"]
    assert copy[str(customers[2].pk)]["name"] == "客户3（更名）"
    # and the payments were recorded
    assert "payments: 2 created, 0 updated, 0 unchanged" in second
    recorded = Payment.objects.filter(bank_reference__in=["BR-1", "BR-2"])
    assert {(p.customer_id, str(p.amount)) for p in recorded} == {
        (customers[0].pk, "1200.00"), (customers[3].pk, "800.50"),
    }  # fmt: skip
    # and the receiver verified the signed event the recording raised
    assert re.search(r"^webhook: payment\.recorded \S+ verified$", second, re.M), second
    assert "rejected" not in second


def _example_module():
    spec = importlib.util.spec_from_file_location("erp_sync", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_receiver_verifies_as_salesctl_signs_and_rejects_the_rest():
    # given a body signed by salesctl's own signing code, sent now
    verify = _example_module().verify
    body, secret, now = b'{"id":"1","type":"ping"}', "whsec_right", int(time.time())
    signature = webhooks.sign(secret, now, body)
    # then the example's check, written with hmac/hashlib alone, accepts it
    assert verify(secret, str(now), body, signature)
    # and refuses another secret, a changed body and an old timestamp (a replay)
    assert not verify("whsec_wrong", str(now), body, signature)
    assert not verify(secret, str(now), body + b" ", signature)
    old = now - 301
    assert not verify(secret, str(old), body, webhooks.sign(secret, old, body))
