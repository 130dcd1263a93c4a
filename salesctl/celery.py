"""The Celery app: Redis broker, beat on django-celery-beat's database scheduler.

Queues are split by kind so that workers can scale per queue (DESIGN.md "Scale").
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")

app = Celery("salesctl")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
