"""WSGI entry point (gunicorn salesctl.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")
application = get_wsgi_application()
