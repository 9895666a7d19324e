"""Imports: upload a spreadsheet, map its columns, preview a dry run, run it in the background.

Every row ends up created, updated, unchanged or rejected with its reason; rejected rows are
written to a CSV file the user downloads, fixes and imports again. Importing the same file twice
updates instead of duplicating: rows match records by external id or by a natural key (names
ignoring case and spacing, contact e-mail, product code) — among the records the importer may see
(see ``imports.importers``): a record they may not see is never matched, linked or revealed.
"""

import copy
import csv
import datetime
import io
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.permissions import ChangeNotAllowed
from contacts.models import Contact, Organization
from core.exceptions import ValidationError
from core.outbox import registered_task
from opportunities.models import Opportunity
from products.models import Product

from .fields import CellError, auto_mapping, fields_for, mapping_errors
from .importers import IMPORTERS, RowError
from .models import ImportJob, ImportKind
from .readers import Table, read_table

logger = logging.getLogger(__name__)

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"
PROGRESS_STEPS = 50
PREVIEW_LIMIT = 1000
STALE_AFTER = datetime.timedelta(minutes=10)


@dataclass
class RowOutcome:
    line: int  # line in the file, the header being line 1
    action: str
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    record: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(f"{column}: {message}" if column else message for column, message in self.errors)


@dataclass
class ImportResult:
    outcomes: list[RowOutcome] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter(outcome.action for outcome in self.outcomes)

    @property
    def rejected(self) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.action == REJECTED]


def _column_errors(exc: ValidationError, mapping: dict, labels: dict) -> list[tuple[str, str]]:
    """A service's errors by field, turned into errors by the column a user sees in their file."""
    if hasattr(exc, "error_dict"):
        items = exc.message_dict.items()
    else:
        items = [(NON_FIELD_ERRORS, exc.messages)]
    errors = []
    for name, messages in items:
        errors += [(_column_of(name, mapping, labels), str(message)) for message in messages]
    return errors


def _column_of(name: str, mapping: dict, labels: dict) -> str:
    """What a person calls the field an error is about: the file's column if one maps to it, else the
    field's label ("VAT number"), never the code name (``vat_number``). A record the row creates on
    the way (a deal's organization) has fields the import kind does not list: their model says."""
    if name == NON_FIELD_ERRORS:
        return ""
    if mapping.get(name):
        return mapping[name]
    if name in labels:
        return capfirst(str(labels[name]))
    for model in (Organization, Contact, Opportunity, Product):
        try:
            return capfirst(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            continue
    return capfirst(name.replace("_", " "))


def _more_errors(importer, values: dict, known: set, mapping: dict, labels: dict) -> list[tuple[str, str]]:
    """The errors the record's own checks find in a row's other cells (an invalid VAT number next to
    an unreadable number), so the person fixes the row once. Tried in a savepoint that is rolled back,
    by a copy of the importer: its lookups must not remember a record that was never kept."""
    trial = copy.deepcopy(importer)
    trial.notes = []
    try:
        with transaction.atomic():
            try:
                trial.save(values)
            finally:
                transaction.set_rollback(True)
    except RowError as exc:
        found = [(_column_of(k, mapping, labels), str(m)) for k, m in exc.errors.items()]
    except ValidationError as exc:
        found = _column_errors(exc, mapping, labels)
    except (ChangeNotAllowed, DatabaseError):
        return []
    else:
        return []  # the other cells are fine
    return [(column, message) for column, message in found if column not in known]


def _import_row(importer, row: dict, line: int, mapping: dict, labels: dict) -> RowOutcome:
    values, errors = {}, []
    for spec in importer.fields:
        header = mapping.get(spec.name)
        default = importer.defaults.get(spec.name, "")
        if not header and not default:
            continue
        try:
            values[spec.name] = spec.parse((row.get(header, "") if header else "") or default)
        except CellError as exc:
            errors.append((header, str(exc)))
            continue
        if spec.required and values[spec.name] in ("", None):
            errors.append((header, _("This value is required.")))
    if errors:
        complete = all(values.get(spec.name) not in ("", None) for spec in importer.fields if spec.required)
        if complete:  # the record's own checks need at least the required values
            known = {column for column, _message in errors}
            errors += _more_errors(importer, values, known, mapping, labels)
        return RowOutcome(line, REJECTED, errors)
    importer.notes = []
    try:
        with transaction.atomic():
            action, record = importer.save(values)
    except RowError as exc:
        errors = [(_column_of(k, mapping, labels), str(m)) for k, m in exc.errors.items()]
        return RowOutcome(line, REJECTED, errors)
    except ValidationError as exc:
        return RowOutcome(line, REJECTED, _column_errors(exc, mapping, labels))
    except ChangeNotAllowed as exc:  # a service refused the importer (matching only finds what they see)
        return RowOutcome(line, REJECTED, [("", str(exc.message))])
    except DatabaseError:
        logger.exception("Import row %s failed", line)
        return RowOutcome(line, REJECTED, [("", _("The database refused this row."))])
    return RowOutcome(line, action, record=str(record), notes=list(importer.notes))


def import_rows(
    *,
    kind: str,
    table: Table,
    mapping: dict,
    user,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    defaults: dict | None = None,
) -> ImportResult:
    """Import every row of ``table``; each row commits (or fails) on its own.

    With ``dry_run`` the whole run happens in a transaction that is rolled back: the preview shows
    exactly what the real run would do, duplicates within the file included. ``defaults`` gives
    values (as text, like cells) for rows whose cell is empty or whose field is not mapped.
    """
    errors = mapping_errors(kind, mapping, table.headers, defaults)
    if errors:
        raise ValidationError(errors)
    importer = IMPORTERS[kind](user=user)
    importer.defaults = defaults or {}
    labels = {spec.name: spec.label for spec in fields_for(kind)}
    result = ImportResult()
    total = len(table.rows)

    def run():
        for index, row in enumerate(table.rows, start=1):
            result.outcomes.append(_import_row(importer, row, index + 1, mapping, labels))
            if progress:
                progress(index, total)

    if dry_run:
        with transaction.atomic():
            run()
            transaction.set_rollback(True)
    else:
        run()
    return result


def rejected_rows_csv(table: Table, result: ImportResult) -> bytes:
    """The rejected rows as they were, with their line and reason first: fix them and re-import."""
    by_line = {outcome.line: outcome for outcome in result.rejected}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("line"), _("reason"), *table.headers])
    for index, row in enumerate(table.rows, start=2):
        if index in by_line:
            writer.writerow([index, by_line[index].reason, *[row.get(h, "") for h in table.headers]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- Import jobs (the pages and the Celery task) ------------------------------------------------


def import_job_table(job: ImportJob) -> Table:
    with job.file.open("rb") as handle:
        return read_table(handle.read(), job.original_name)


@transaction.atomic
def import_job_create(*, user, kind: str, file) -> ImportJob:
    """Store an uploaded file, check it can be read, and guess the column mapping."""
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Choose what the file holds.")})
    data = file.read()
    table = read_table(data, file.name)
    if not table.rows:
        raise ValidationError({"file": _("The file has a header row but no data.")})
    job = ImportJob(user=user, kind=kind, original_name=file.name[:255], total_rows=len(table.rows))
    job.mapping = auto_mapping(kind, table.headers)
    job.file.save(file.name, ContentFile(data), save=False)
    job.save()
    return job


@transaction.atomic
def import_job_set_mapping(*, job: ImportJob, mapping: dict, defaults: dict | None = None) -> ImportJob:
    """Keep the user's column choices (and default values); refuse unknown columns and missing
    required fields."""
    mapping = {name: header for name, header in mapping.items() if header}
    defaults = {name: value for name, value in (defaults or {}).items() if value}
    table = import_job_table(job)
    errors = mapping_errors(job.kind, mapping, table.headers, defaults)
    if errors:
        raise ValidationError(errors)
    job.mapping, job.defaults = mapping, defaults
    job.save(update_fields=["mapping", "defaults"])
    return job


def import_preview(*, job: ImportJob, limit: int | None = None) -> ImportResult:
    """A dry run of the file (its first ``limit`` rows): what would be created or updated, and which
    rows would be refused and why. A page request cannot wait for a huge file; the run checks all."""
    table = import_job_table(job)
    table = Table(table.headers, table.rows[: limit or PREVIEW_LIMIT])
    return import_rows(
        kind=job.kind, table=table, mapping=job.mapping, user=job.user, dry_run=True, defaults=job.defaults
    )


@transaction.atomic
def import_job_start(*, job: ImportJob) -> ImportJob:
    """Queue the run; the task starts after this transaction commits."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.UPLOADED:
        return job
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["status"])
    transaction.on_commit(lambda: registered_task("imports.tasks.import_job_run").delay(job.pk))
    return job


def import_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job. Claims it first, so a second delivery of the task does nothing.

    A job left running by a worker that died is claimed again once it has made no progress for
    ``STALE_AFTER``: rows match existing records, so running a file again never duplicates.
    """
    now = timezone.now()
    claimable = Q(status=ImportJob.Status.QUEUED) | Q(
        status=ImportJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    claimed = ImportJob.objects.filter(claimable, pk=job_id).update(
        status=ImportJob.Status.RUNNING, started_at=now, heartbeat_at=now, processed_rows=0
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    try:
        table = import_job_table(job)
        job.total_rows = len(table.rows)
        step = max(1, job.total_rows // PROGRESS_STEPS)

        def progress(done, total):
            if done % step == 0 or done == total:
                ImportJob.objects.filter(pk=job.pk).update(processed_rows=done, heartbeat_at=timezone.now())

        result = import_rows(
            kind=job.kind, table=table, mapping=job.mapping, user=job.user, progress=progress, defaults=job.defaults
        )
    except Exception as exc:
        logger.exception("Import job %s failed", job_id)
        job.status = ImportJob.Status.FAILED
        job.error = exc.messages[0] if isinstance(exc, ValidationError) else _("The import stopped unexpectedly.")
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at", "total_rows"])
        return job
    counts = result.counts
    job.processed_rows = job.total_rows
    job.created_count = counts[CREATED]
    job.updated_count = counts[UPDATED]
    job.unchanged_count = counts[UNCHANGED]
    job.rejected_count = counts[REJECTED]
    if result.rejected:
        job.rejected_file.save(f"rejected-{job.pk}.csv", ContentFile(rejected_rows_csv(table, result)), save=False)
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    return job
