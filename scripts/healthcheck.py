"""Container healthcheck of the web process: GET /healthz on this host, exit 0 only on 200.

No curl in the slim image, so plain http.client. The request names a host the settings allow
(the first plain entry of ALLOWED_HOSTS) and says it came over HTTPS, as the TLS-terminating
proxy in front would; that header counts only where USE_X_FORWARDED_PROTO=1, and there
SECURE_SSL_REDIRECT would otherwise answer 301.
"""

from __future__ import annotations

import http.client
import os
import sys


def allowed_host() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "localhost").split(","):
        host = host.strip().lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def main() -> int:
    port = int(os.environ.get("HEALTHCHECK_PORT", "8000"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(
            "GET", "/healthz", headers={"Host": allowed_host(), "X-Forwarded-Proto": "https"}
        )
        response = conn.getresponse()
        body = response.read(500).decode("utf-8", "replace")
    except OSError as exc:
        print(f"healthz: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print(f"healthz: {response.status} {body}")
    return 0 if response.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
