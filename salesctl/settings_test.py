"""Settings for the test suite: the production settings (DEBUG off) with the few changes a test
client over plain HTTP needs. Postgres and Redis stay real."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS, STORAGES

# A test-only document type for the approval engine's tests.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
ROOT_URLCONF = "tests.testapp.root_urls"

# Fast hashing: the suite logs users in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic before tests: serve static files from the finders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# A second connection standing in for the read replica (apps.core.replica): a test mirror of
# the test database. Reports read through it only where a test turns REPLICA_READS on.
DATABASES = {
    **DATABASES,  # noqa: F405
    "replica": {**DATABASES["default"], "TEST": {"MIRROR": "default"}},  # noqa: F405
}
REPLICA_READS = False

# A sync serves a change only once it is API_SYNC_SETTLE_SECONDS old (apps.api.filters): none
# here, so that a test can sync what it has just written (tests/api/test_sync.py sets its own).
API_SYNC_SETTLE_SECONDS = 0
