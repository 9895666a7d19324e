"""Reads of import jobs: a user sees their own; administrators see every job."""

from accounts.permissions import sees_everything

from .models import ImportJob, ImportMapping


def import_job_list(*, user):
    jobs = ImportJob.objects.select_related("user")
    return jobs if sees_everything(user) else jobs.filter(user=user)


def import_job_get(*, user, pk) -> ImportJob:
    return import_job_list(user=user).get(pk=pk)


def import_mapping_list(*, user, kind: str | None = None):
    """The mappings ``user`` saved (each user reuses their own)."""
    mappings = ImportMapping.objects.filter(user=user)
    return mappings.filter(kind=kind) if kind else mappings
