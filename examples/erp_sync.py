#!/usr/bin/env python3
"""Connect an ERP to salesctl: the worked example of docs/erp-integration.md.

What an integration does, one function each, to read and to copy:

- `sync_customers`: pull the customers changed since the last run (incremental sync: follow
  `next` to the last page, keep its `resume` link as the high-water mark for the next run) into
  the ERP's copy, here a JSON file;
- `post_payments`: post the payments the bank received, from a CSV file, to
  `POST /api/v1/payments/bulk/` (at most 1,000 per request, all or none, each new one allocated
  to the customer's open installments);
- `WebhookReceiver`: a small HTTP server that takes salesctl's webhooks, checks each signature
  with the subscription's secret and rejects old timestamps (replays).

Try it against `make run` (the demo data has an integration user, `erp`):

    .venv/bin/python manage.py issue_token erp          # the token is on the last line
    export SALESCTL_URL=http://127.0.0.1:8000 SALESCTL_TOKEN=<the token>
    python examples/erp_sync.py                          # customers changed since the last run
    python examples/erp_sync.py --payments examples/payments.csv
    python examples/erp_sync.py --listen 127.0.0.1:8765 --secret <the subscription's secret>

The last one waits for events (Ctrl-C stops it): subscribe http://127.0.0.1:8765/ to
`payment.recorded` first (`POST /api/v1/webhooks/`, whose answer holds the secret), then post
payments from another shell. `--events N` stops after N verified events, `--wait SECONDS`
gives up waiting (exit status 1). Only the standard library and `requests`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

BULK_MAX = 1000  # records per bulk request (API.md "ERP integration")
SIGNATURE_TOLERANCE = 300  # seconds: an older webhook is a replay


# --------------------------------------------------------------------------- the API client


class Api:
    """`requests` with the bearer token, English error messages, and a wait on 429."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept-Language": "en"})

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if url.startswith("/"):
            url = self.base_url + url
        for _attempt in range(5):
            response = self.session.request(method, url, timeout=30, **kwargs)
            if response.status_code != 429:  # over the rate limit: wait as told, then retry
                return response
            time.sleep(int(response.headers.get("Retry-After", "1")))
        return response


def fail(response: requests.Response) -> None:
    """Print an API error (a problem+json document) and stop."""
    try:
        problem = response.json()
    except ValueError:
        sys.exit(f"error: HTTP {response.status_code}: {response.text[:200]}")
    print(f"error: {problem.get('status')} {problem.get('title')}: {problem.get('detail')}")
    for error in problem.get("errors", []):  # records.<index>.<field> for a bulk request
        print(f"  {error['field']}: {error['message']}")
    sys.exit(1)


# --------------------------------------------------------------------------- customers


def sync_customers(api: Api, state: dict[str, Any]) -> int:
    """Pull the customers changed since the last run into `state["customers"]` (the ERP's
    copy, by salesctl id); returns how many changed.

    The first run asks for everything changed since 1970; each page's `next` is followed to
    the last one, whose `resume` link is kept: the next run starts from it and gets only what
    changed since, each change once. A record is never deleted: a lost customer comes back with
    `status: "lost"`.
    """
    url = state.get("customers_resume") or (
        "/api/v1/customers/?updated_since=1970-01-01T00:00:00Z&page_size=500"
    )
    mirror = state.setdefault("customers", {})
    changed = 0
    while url:
        response = api.request("GET", url)
        if response.status_code != 200:
            fail(response)
        page = response.json()
        for customer in page["results"]:
            # Upsert into the ERP here, keyed by salesctl's id (or by your own external_id).
            mirror[str(customer["id"])] = {
                "name": customer["name"],
                "external_id": customer["external_id"],
                "status": customer["status"],
                "updated_at": customer["updated_at"],
            }
            changed += 1
        state["customers_resume"] = page["resume"]  # the high-water mark: the next run starts there
        url = page["next"]
    return changed


# --------------------------------------------------------------------------- payments


def read_payments(path: Path) -> list[dict[str, Any]]:
    """The payments of a CSV export, one record per row, empty cells left out. Columns:
    customer (salesctl's id) or customer_external_id, amount, received_on (YYYY-MM-DD),
    method, bank_reference and/or external_id, payer_name, notes."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    return [
        {name: cell.strip() for name, cell in row.items() if cell and cell.strip()} for row in rows
    ]


def post_payments(api: Api, records: list[dict[str, Any]]) -> dict[str, int]:
    """Post `records` in batches of at most 1,000; returns the created / updated / unchanged
    counts.

    A batch is all or none: one invalid record and nothing of it is recorded, the answer (400)
    naming each invalid field as `records.<index>.<field>`. Sending the same batch again
    records nothing twice (each payment is keyed by its bank reference or external id: it comes
    back `unchanged`), and the Idempotency-Key lets a retry after a lost answer replay it.
    """
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    for start in range(0, len(records), BULK_MAX):
        body = {"records": records[start : start + BULK_MAX], "allocate": True}
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        response = api.request(
            "POST", "/api/v1/payments/bulk/", json=body, headers={"Idempotency-Key": key}
        )
        if response.status_code != 200:
            fail(response)
        answer = response.json()
        for name in totals:
            totals[name] += answer[name]
        for result in answer["results"]:
            # Keep salesctl's id of each payment, by its position in the batch, if you need it.
            print(f"  payment {start + result['index']}: {result['status']} (id {result['id']})")
    return totals


# --------------------------------------------------------------------------- webhooks


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What every receiver does before it trusts a webhook: the signature is `sha256=` + the hex
    HMAC-SHA256 of "<timestamp>.<raw body>" with the subscription's secret, and the timestamp
    (Unix seconds) is recent, so that a captured request cannot be played again later."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - sent) > SIGNATURE_TOLERANCE:
        return False
    message = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


class WebhookReceiver(ThreadingHTTPServer):
    """Takes the POSTs of salesctl's webhooks on (host, port) in a thread of its own."""

    def __init__(self, address: tuple[str, int], secret: str) -> None:
        super().__init__(address, _WebhookHandler)
        self.secret = secret
        self.seen: set[str] = set()  # event ids: a retry or a redelivery repeats one
        self.verified = 0
        self.lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        timestamp = self.headers.get("X-Salesctl-Timestamp", "")
        signature = self.headers.get("X-Salesctl-Signature", "")
        if not verify(self.server.secret, timestamp, body, signature):
            print("webhook: rejected (bad signature or old timestamp)", flush=True)
            self._answer(401)
            return
        event = json.loads(body)
        with self.server.lock:
            new = event["id"] not in self.server.seen
            self.server.seen.add(event["id"])
            self.server.verified += new
        if new:
            # Store the event here (then answer: any other answer than 2xx is retried).
            print(f"webhook: {event['type']} {event['id']} verified", flush=True)
        self._answer(204)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return  # the lines above say what matters


# --------------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SALESCTL_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("SALESCTL_TOKEN"))
    parser.add_argument(
        "--state", type=Path, default=Path(".erp_sync_state.json"),
        help="the ERP side: the customers' copy and the sync's high-water mark",
    )  # fmt: skip
    parser.add_argument("--payments", type=Path, help="a CSV of payments received to post")
    parser.add_argument("--listen", metavar="HOST:PORT", help="receive webhooks there")
    parser.add_argument("--secret", default=os.environ.get("SALESCTL_WEBHOOK_SECRET"))
    parser.add_argument("--events", type=int, help="stop after this many verified webhooks")
    parser.add_argument("--wait", type=float, help="give up waiting for them after SECONDS")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set SALESCTL_TOKEN (manage.py issue_token erp)")
    if args.listen and not args.secret:
        parser.error("--listen needs the subscription's --secret (or SALESCTL_WEBHOOK_SECRET)")
    api = Api(args.url, args.token)

    receiver = None
    if args.listen:  # first, so that no event raised by what follows is missed
        host, _, port = args.listen.rpartition(":")
        receiver = WebhookReceiver((host, int(port)), args.secret)
        receiver.start()
        print(f"webhooks: listening on http://{host}:{port}/", flush=True)

    state = json.loads(args.state.read_text()) if args.state.exists() else {}
    changed = sync_customers(api, state)
    args.state.write_text(json.dumps(state, ensure_ascii=False, indent=1))
    print(f"customers: {changed} synced, {len(state['customers'])} in the ERP's copy", flush=True)

    if args.payments:
        totals = post_payments(api, read_payments(args.payments))
        print(
            "payments: {created} created, {updated} updated, {unchanged} unchanged".format(
                **totals
            ),
            flush=True,
        )

    if receiver is None:
        return 0
    deadline = time.monotonic() + args.wait if args.wait else None
    try:
        while args.events is None or receiver.verified < args.events:
            if deadline is not None and time.monotonic() > deadline:
                print(f"webhooks: {receiver.verified} verified, gave up waiting", flush=True)
                return 1
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.shutdown()
    print(f"webhooks: {receiver.verified} verified", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
