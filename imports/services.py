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
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.permissions import ChangeNotAllowed
from contacts.models import Contact, Organization
from core.exceptions import ValidationError
from core.jobs import job_claim
from core.outbox import registered_task
from opportunities.models import Opportunity
from products.models import Product

from .fields import FRACTION, PERCENT, CellError, auto_mapping, fields_for, mapping_errors, probability_scale
from .importers import CREATE_CHOICES, CREATE_ORGANIZATIONS, IMPORTERS, RowError
from .models import ImportJob, ImportKind, ImportMapping
from .readers import Table, read_table
from .selectors import import_mapping_list
from .values import SKIP, VALUE_FIELDS, ValueCatalogue, file_values

logger = logging.getLogger(__name__)

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"
PROGRESS_STEPS = 50
PREVIEW_LIMIT = 1000
STALE_AFTER = datetime.timedelta(minutes=10)
REPORT_NOTES = 1000


@dataclass
class RowOutcome:
    line: int  # line in the file, the header being line 1
    action: str
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    record: str = ""
    notes: list[str] = field(default_factory=list)
    status: str = ""  # a deal's status after the row: open, won or lost

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

    @property
    def importable(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.action != REJECTED)

    @property
    def statuses(self) -> Counter:
        """Deals imported by status (open, won, lost)."""
        return Counter(o.status for o in self.outcomes if o.action != REJECTED and o.status)


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
        # Report every error of the row at once: the cells that could not be read, and what the
        # importer would refuse in the rest of the row (its own checks when it has them, else the
        # record's checks tried in a savepoint that is rolled back).
        check = getattr(importer, "check", None)
        if check is not None:
            with transaction.atomic():  # a check may create a missing lost reason: keep nothing
                more = check(values)  # only the cells that could be read
                transaction.set_rollback(True)
            errors += [(_column_of(k, mapping, labels), str(m)) for k, m in more.items()]
        elif all(values.get(spec.name) not in ("", None) for spec in importer.fields if spec.required):
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
    status = getattr(record, "status", "") if kind_has_status(importer.kind) else ""
    return RowOutcome(line, action, record=str(record), notes=list(importer.notes), status=status)


def kind_has_status(kind: str) -> bool:
    return kind == ImportKind.OPPORTUNITY


def import_rows(
    *,
    kind: str,
    table: Table,
    mapping: dict,
    user,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    defaults: dict | None = None,
    value_mapping: dict | None = None,
    options: dict | None = None,
) -> ImportResult:
    """Import every row of ``table``; each row commits (or fails) on its own.

    With ``dry_run`` the whole run happens in a transaction that is rolled back: the preview shows
    exactly what the real run would do, duplicates within the file included. ``defaults`` gives
    values (as text, like cells) for rows whose cell is empty or whose field is not mapped;
    ``value_mapping`` what the file's stages, statuses and lost reasons mean (``imports.values``);
    ``options`` whether missing organizations and contacts are created and how probabilities are
    written (see :func:`import_options`).
    """
    errors = mapping_errors(kind, mapping, table.headers, defaults)
    if errors:
        raise ValidationError(errors)
    importer = IMPORTERS[kind](user=user)
    importer.defaults = defaults or {}
    if kind == ImportKind.OPPORTUNITY:
        importer.value_mapping = value_mapping or {}
        importer.options = import_options(kind, table, mapping, options)
        importer.probability_scale = importer.options["probability_scale"]
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


def import_options(kind: str, table: Table, mapping: dict, options: dict | None) -> dict:
    """The options of a run, with the probability scale decided from the file when not chosen."""
    options = dict(options or {})
    if kind == ImportKind.OPPORTUNITY:
        if options.get("probability_scale") not in (PERCENT, FRACTION):
            column = mapping.get("probability")
            values = [row.get(column, "") for row in table.rows] if column else []
            options["probability_scale"] = probability_scale(values)
            options["probability_detected"] = True
        options.setdefault("create", CREATE_ORGANIZATIONS)
    return options


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


def _saved_mapping_apply(job: ImportJob, saved: ImportMapping, headers: list[str]) -> None:
    """A saved mapping's columns that this file has, its value mapping and its options."""
    columns = {name: header for name, header in saved.columns.items() if header in headers}
    job.mapping = {**job.mapping, **columns}
    job.value_mapping = dict(saved.value_mapping)
    job.options = dict(saved.options)


@transaction.atomic
def import_job_create(*, user, kind: str, file, saved_mapping: int | None = None) -> ImportJob:
    """Store an uploaded file, check it can be read, and map its columns: by meaning, then with the
    saved mapping chosen (``saved_mapping``, an id among the user's own) or, when none is chosen,
    with the user's most recent saved mapping whose every column this file has."""
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Choose what the file holds.")})
    data = file.read()
    table = read_table(data, file.name)
    if not table.rows:
        raise ValidationError({"file": _("The file has a header row but no data.")})
    job = ImportJob(user=user, kind=kind, original_name=file.name[:255], total_rows=len(table.rows))
    job.mapping = auto_mapping(kind, table.headers)
    saved_mappings = import_mapping_list(user=user, kind=kind)
    if saved_mapping:
        saved = saved_mappings.filter(pk=saved_mapping).first()
        if saved is None:
            raise ValidationError({"saved_mapping": _("There is no saved mapping with this id.")})
        _saved_mapping_apply(job, saved, table.headers)
    else:
        for saved in saved_mappings.order_by("-updated_at"):
            if saved.columns and set(saved.columns.values()) <= set(table.headers):
                _saved_mapping_apply(job, saved, table.headers)
                break
    job.file.save(file.name, ContentFile(data), save=False)
    job.save()
    return job


@transaction.atomic
def import_job_apply_saved(*, job: ImportJob, saved_mapping) -> ImportJob:
    """Map the job as a mapping the user saved before (the columns this file has, values, options)."""
    try:
        saved = import_mapping_list(user=job.user, kind=job.kind).get(pk=int(saved_mapping))
    except (TypeError, ValueError, ImportMapping.DoesNotExist):
        raise ValidationError({"saved_mapping": _("There is no saved mapping with this id.")}) from None
    _saved_mapping_apply(job, saved, import_job_table(job).headers)
    job.preview_importable = None
    job.save(update_fields=["mapping", "value_mapping", "options", "preview_importable"])
    return job


def _options_clean(kind: str, options: dict | None) -> dict:
    options = dict(options or {})
    errors = {}
    unknown = set(options) - {"create", "probability_scale"}
    for name in sorted(unknown):
        errors[name] = _("This option does not exist.")
    if options.get("create", "") not in ("", *CREATE_CHOICES):
        errors["create"] = _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(CREATE_CHOICES)}
    if options.get("probability_scale", "") not in ("", PERCENT, FRACTION):
        errors["probability_scale"] = _("Choose one of: %(allowed)s.") % {"allowed": f"{PERCENT}, {FRACTION}"}
    if errors:
        raise ValidationError(errors)
    return {k: v for k, v in options.items() if v}


@transaction.atomic
def import_job_set_mapping(
    *,
    job: ImportJob,
    mapping: dict,
    defaults: dict | None = None,
    options: dict | None = None,
    save_as: str = "",
) -> ImportJob:
    """Keep the user's column choices (and default values, options); refuse unknown columns and
    missing required fields. With ``save_as`` the mapping is also saved by that name for the next
    file from the same source. The preview must run again before the import can."""
    mapping = {name: header for name, header in mapping.items() if header}
    defaults = {name: value for name, value in (defaults or {}).items() if value}
    table = import_job_table(job)
    errors = mapping_errors(job.kind, mapping, table.headers, defaults)
    if errors:
        raise ValidationError(errors)
    job.mapping, job.defaults = mapping, defaults
    if options is not None:
        job.options = _options_clean(job.kind, options)
    job.preview_importable = None
    job.save(update_fields=["mapping", "defaults", "options", "preview_importable"])
    if save_as.strip():
        import_mapping_save(job=job, name=save_as)
    return job


@transaction.atomic
def import_mapping_save(*, job: ImportJob, name: str) -> ImportMapping:
    """Save the job's column and value mapping and options by ``name`` (replacing the user's own
    mapping of that name)."""
    name = " ".join(name.split())[:100]
    if not name:
        raise ValidationError({"save_as": _("Give the mapping a name.")})
    saved, _created = ImportMapping.objects.update_or_create(
        user=job.user,
        kind=job.kind,
        name=name,
        defaults={"columns": job.mapping, "value_mapping": job.value_mapping, "options": job.options},
    )
    return saved


@transaction.atomic
def import_job_set_values(*, job: ImportJob, values: dict, save_as: str = "") -> ImportJob:
    """Record what values of the file mean: ``{name: {value: target}}``, a target being a
    pipeline, stage or lost reason id, a status (open, won, lost), or ``SKIP`` to leave that
    value's rows out (each says why). An empty target forgets the choice."""
    if job.kind != ImportKind.OPPORTUNITY and values:
        raise ValidationError({"values": _("Only deals have values to map.")})
    if not isinstance(values, dict):
        raise ValidationError({"values": _("Send an object of fields, each an object of value → target.")})
    catalogue = ValueCatalogue()
    errors, merged = {}, {name: dict(job.value_mapping.get(name) or {}) for name in VALUE_FIELDS}
    for name, choices in values.items():
        if name not in VALUE_FIELDS:
            errors[name] = _("Only %(fields)s have values to map.") % {"fields": ", ".join(VALUE_FIELDS)}
            continue
        if not isinstance(choices, dict):
            errors[name] = _("Send an object of value → target.")
            continue
        for value, target in choices.items():
            value = " ".join(str(value).split())
            target = "" if target is None else str(target)
            if not target:
                merged[name].pop(value, None)
            elif target == SKIP or catalogue.target(name, target) is not None:
                merged[name][value] = target
            else:
                errors[name] = _("%(target)s is not one of the choices for %(value)s.") % {
                    "target": target,
                    "value": value,
                }
    if errors:
        raise ValidationError(errors)
    job.value_mapping = {name: choices for name, choices in merged.items() if choices}
    job.preview_importable = None
    job.save(update_fields=["value_mapping", "preview_importable"])
    if save_as.strip():
        import_mapping_save(job=job, name=save_as)
    return job


@dataclass
class Preview:
    result: ImportResult
    values: dict  # {field: [(value, target or SKIP or None, rows)]}
    unknown: dict  # {field: [value]}
    options: dict

    @property
    def can_run(self) -> bool:
        return not self.unknown and self.result.importable > 0


def import_job_values(job: ImportJob, table: Table | None = None) -> tuple[dict, dict]:
    """The file's values to map, with what each means now, and those still unknown."""
    table = table or import_job_table(job)
    found = file_values(job.kind, table.rows, job.mapping, job.value_mapping, job.defaults)
    unknown = {f: [v for v, target, _n in entries if target is None] for f, entries in found.items()}
    return found, {f: values for f, values in unknown.items() if values}


def import_preview(*, job: ImportJob, limit: int | None = None) -> Preview:
    """A dry run of the file (its first ``limit`` rows): what would be created or updated, and which
    rows would be refused and why, plus the values still to map. A page request cannot wait for a
    huge file; the run checks all. Remembers how many rows could be imported: the run needs some."""
    full = import_job_table(job)
    table = Table(full.headers, full.rows[: limit or PREVIEW_LIMIT])
    result = import_rows(
        kind=job.kind,
        table=table,
        mapping=job.mapping,
        user=job.user,
        dry_run=True,
        defaults=job.defaults,
        value_mapping=job.value_mapping,
        options=job.options,
    )
    values, unknown = import_job_values(job, full)
    preview = Preview(result, values, unknown, import_options(job.kind, full, job.mapping, job.options))
    importable = result.importable if not unknown else 0
    ImportJob.objects.filter(pk=job.pk).update(preview_importable=importable)
    job.preview_importable = importable
    return preview


@transaction.atomic
def import_job_start(*, job: ImportJob) -> ImportJob:
    """Queue the run; the task starts after this transaction commits. Refused while values of the
    file are not mapped (or skipped), and when the preview finds no row that can be imported."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.UPLOADED:
        return job
    if job.preview_importable is None:
        import_preview(job=job)
    _values, unknown = import_job_values(job)
    if unknown:
        raise ValidationError(
            {
                field: _("Map or skip these values first: %(values)s.") % {"values": ", ".join(values)}
                for field, values in unknown.items()
            }
        )
    if not job.preview_importable:
        raise ValidationError({NON_FIELD_ERRORS: _("No row of the file can be imported: see the preview.")})
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["status"])
    transaction.on_commit(lambda: registered_task("imports.tasks.import_job_run").delay(job.pk))
    return job


def import_report(result: ImportResult) -> dict:
    """What the result page and the API show after the run: every rejected row with all its
    errors, the rows imported with a remark, and the deals by status."""
    return {
        "rejected": [
            {"line": o.line, "errors": [{"column": c, "message": m} for c, m in o.errors]} for o in result.rejected
        ],
        "notes": [
            {"line": o.line, "record": o.record, "notes": o.notes}
            for o in result.outcomes
            if o.action != REJECTED and o.notes
        ][:REPORT_NOTES],
        "statuses": dict(result.statuses),
    }


def import_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job. Claims it first, so a second delivery of the task does nothing.

    A job left running by a worker that died is claimed again once it has made no progress for
    ``STALE_AFTER``: rows match existing records, so running a file again never duplicates.
    """
    if not job_claim(ImportJob, job_id, stale_after=STALE_AFTER, processed_rows=0):
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
            kind=job.kind,
            table=table,
            mapping=job.mapping,
            user=job.user,
            progress=progress,
            defaults=job.defaults,
            value_mapping=job.value_mapping,
            options=job.options,
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
    job.report = import_report(result)
    if result.rejected:
        job.rejected_file.save(f"rejected-{job.pk}.csv", ContentFile(rejected_rows_csv(table, result)), save=False)
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    return job
