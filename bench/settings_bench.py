"""Settings of `make bench` (scripts/bench.sh, bench/suite.py): the production settings of
salesctl.settings, as the environment gives them (DEBUG=0, …), plus what measuring needs.

- The per-request query count (apps.core.querycount) first in MIDDLEWARE, so that it counts
  the session and authentication queries too; it is active only when the process starts with
  SALESCTL_QUERY_COUNT=1 (the bench's gunicorn does), and left out of the stack otherwise.
- Celery tasks run in the calling process (``CELERY_TASK_ALWAYS_EAGER``): the nightly jobs the
  suite times in-process must not queue sub-tasks on the shared broker, where a development
  worker would run them against its own database. Their time is then part of the job's.

    DJANGO_SETTINGS_MODULE=bench.settings_bench gunicorn salesctl.wsgi …
"""

from salesctl.settings import *  # noqa: F403
from salesctl.settings import MIDDLEWARE

MIDDLEWARE = ["apps.core.querycount.QueryCountMiddleware", *MIDDLEWARE]

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
