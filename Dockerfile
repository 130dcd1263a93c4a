# salesctl image: the same code runs web (gunicorn), the Celery worker and beat; see
# docker-compose.yml for how they are put together.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext: compilemessages at build time. psycopg comes with its own libpq (psycopg[binary]).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .

# Translations and static files are built into the image (whitenoise serves them, hashed and
# compressed). Neither step reads a secret or a database.
RUN if [ -d locale ]; then DEBUG=1 python manage.py compilemessages --ignore=.venv; fi \
    && DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin salesctl \
    && mkdir -p /app/media \
    && chown salesctl /app/media
USER salesctl

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]

CMD ["gunicorn", "salesctl.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
