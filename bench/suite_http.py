"""The load driver of `make bench` (bench/suite.py): HTTP clients on threads, against the
gunicorn the bench started on 127.0.0.1, with the standard library only (http.client).

A *client* is a thread that sends its requests one after the other, waiting a think time
between them (`make bench` gives 0.5–1.5 s: a user reading the page; none is a closed loop):
`run_concurrent` starts `clients` of them on one URL and stops when `total` requests have
been answered, so the figures are those of `clients` users working on that page at once.
`run_mixed` is the capacity probe: clients without think time over a mix of URLs. Each
answer's latency is measured on the client (connect, request, whole body read); its
``X-Query-Count`` / ``X-Query-Ms`` headers (apps.core.querycount) give the queries the server
ran for it.

Only loopback addresses are ever asked (the bench's own server); every loop is bounded in
requests and in time.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TIMEOUT_S = 300.0


@dataclass
class Answer:
    status: int
    ms: float
    queries: int | None
    db_ms: float | None
    size: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Auth:
    """How a client says who it is: the session cookie of a login, or an API token."""

    cookie: str = ""
    token: str = ""

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.cookie:
            return {"Cookie": self.cookie}
        return {}


class Server:
    """The bench's gunicorn at `base_url` (http://127.0.0.1:PORT)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise SystemExit(f"the bench only drives a server on this machine, not {base_url}")
        self.host = parts.hostname
        self.port = parts.port or 80

    def request(
        self,
        path: str,
        *,
        auth: Auth | None = None,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        keep_body: bool = False,
    ) -> Answer:
        sent = {"Host": f"{self.host}:{self.port}", "Accept-Language": "en"}
        sent.update(auth.headers() if auth else {})
        sent.update(headers or {})
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        ms = (time.perf_counter() - started) * 1000
        count = response.getheader("X-Query-Count")
        db_ms = response.getheader("X-Query-Ms")
        return Answer(
            status=response.status,
            ms=ms,
            queries=int(count) if count is not None else None,
            db_ms=float(db_ms) if db_ms is not None else None,
            size=len(data),
            body=data if keep_body else b"",
            headers={k.lower(): v for k, v in response.getheaders()},
            set_cookies=response.msg.get_all("Set-Cookie") or [],
        )

    def wait_ready(self, path: str = "/healthz", seconds: float = 90.0) -> None:
        deadline = time.monotonic() + seconds
        last: Exception | str = "no answer"
        while time.monotonic() < deadline:
            try:
                answer = self.request(path)
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
            except OSError as exc:
                last = exc
            time.sleep(0.5)
        raise SystemExit(f"gunicorn did not answer {path} within {seconds:.0f} s: {last}")

    def login(self, username: str, password: str) -> Auth:
        """A session through the login form, as a browser gets one (CSRF cookie and token)."""
        page = self.request("/accounts/login/", keep_body=True)
        cookies = _cookies(page)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or not match or "csrftoken" not in cookies:
            raise SystemExit(f"login page: HTTP {page.status}, no CSRF token")
        form = urlencode({
            "csrfmiddlewaretoken": match.group(1).decode(), "username": username,
            "password": password,
        }).encode()  # fmt: skip
        answer = self.request(
            "/accounts/login/", method="POST", body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Cookie": f"csrftoken={cookies['csrftoken']}"},
        )  # fmt: skip
        cookies.update(_cookies(answer))
        if answer.status != 302 or "sessionid" not in cookies:
            raise SystemExit(f"login of {username}: HTTP {answer.status}, no session")
        return Auth(cookie=f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}")

    def logout(self, auth: Auth) -> None:
        """End the session (Django deletes its row)."""
        token = auth.cookie.split("csrftoken=", 1)[-1].split(";", 1)[0]
        self.request("/accounts/logout/", auth=auth, method="POST", body=b"",
                     headers={"X-CSRFToken": token,
                              "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip


def _cookies(answer: Answer) -> dict[str, str]:
    jar = SimpleCookie()
    for header in answer.set_cookies:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


@dataclass
class Run:
    """What `clients` clients got for `total` requests of one URL."""

    answers: list[Answer]
    seconds: float
    errors: list[str]

    @property
    def rps(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0


def _drive(
    server: Server,
    next_target: Callable[[], tuple[str, Auth | None] | None],
    *,
    clients: int,
    think_ms: float = 0.0,
) -> Run:
    """`clients` threads, each sending the request `next_target()` names (called under a
    lock) until it says None, waiting a think time between its requests: 0.5–1.5 ×
    `think_ms` (none when 0: back to back)."""
    lock = threading.Lock()
    answers: list[Answer] = []
    errors: list[str] = []

    def client() -> None:
        if think_ms:  # users arrive spread over one think time, not all in the same instant
            time.sleep(think_ms * random.uniform(0, 1) / 1000)
        while True:
            with lock:
                target = next_target()
            if target is None:
                return
            path, auth = target
            try:
                answer = server.request(path, auth=auth)
            except OSError as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                answers.append(answer)
                if answer.status != 200:
                    errors.append(f"HTTP {answer.status}")
            if think_ms:
                time.sleep(think_ms * random.uniform(0.5, 1.5) / 1000)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(answers=answers, seconds=time.perf_counter() - started, errors=errors)


def run_concurrent(
    server: Server,
    path: str,
    *,
    auth: Auth | None,
    clients: int,
    total: int,
    max_seconds: float,
    think_ms: float = 0.0,
) -> Run:
    """`clients` threads send `path` until `total` requests are sent (or `max_seconds`),
    each waiting a think time between its requests: 0.5–1.5 × `think_ms` (none by default:
    back to back)."""
    issued = 0
    deadline = time.monotonic() + max_seconds

    def next_target() -> tuple[str, Auth | None] | None:
        nonlocal issued
        if issued >= total or time.monotonic() > deadline:
            return None
        issued += 1
        return path, auth

    return _drive(server, next_target, clients=clients, think_ms=think_ms)


def run_mixed(
    server: Server, targets: list[tuple[str, Auth | None]], *, clients: int, seconds: float
) -> Run:
    """The capacity probe: `clients` threads, no think time, each request one of `targets`
    (path, who) at random, for `seconds`: how many requests a second the server answers when
    every worker is kept busy by a mix of pages, and the latency that queueing gives them."""
    deadline = time.monotonic() + seconds
    rng = random.Random(10)

    def next_target() -> tuple[str, Auth | None] | None:
        return rng.choice(targets) if time.monotonic() <= deadline else None

    return _drive(server, next_target, clients=clients)
