"""Lead jobs (Celery): thin wrappers over the services."""

from celery import shared_task

from . import importing, services


@shared_task(name="apps.leads.tasks.rescore_all")
def rescore_all() -> int:
    return services.lead_rescore_all()


@shared_task(name="apps.leads.tasks.flag_sla_breaches")
def flag_sla_breaches() -> int:
    return services.lead_sla_flag_breaches()


@shared_task(name="apps.leads.tasks.purge_import_uploads")
def purge_import_uploads() -> int:
    return importing.import_purge_stale()
