"""Value mapping: what the pipelines, stages, statuses and lost reasons of another CRM's file mean
here ("Closed Won" → our won stage, "Went with competitor" → "Chose a competitor").

A file's value is resolved, in order, by the user's mapping (``{field: {value: target}}``, targets
being a pipeline or stage or lost reason id, or a status code), then by name (ignoring case and
spacing, English or Italian), then — for a stage — by the status its name says ("Closed Lost"
→ the lost stage of the row's pipeline). A value mapped to :data:`SKIP` keeps its rows out of the
import; an unresolved value blocks the run until the user maps or skips it
(:func:`unknown_values`).
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from pipeline.models import LostReason, Pipeline, Stage

from .keys import header_key, name_key
from .models import ImportKind

SKIP = "__skip__"
VALUE_FIELDS = ("pipeline", "stage", "status", "lost_reason")
OPEN, WON, LOST = Stage.Kind.OPEN.value, Stage.Kind.WON.value, Stage.Kind.LOST.value
STATUS_LABELS = {OPEN: _("open"), WON: _("won"), LOST: _("lost")}
# How other CRMs and Italian spreadsheets write a deal's outcome (compared as header_key).
STATUS_WORDS = {
    OPEN: ["open", "opened", "active", "in progress", "aperta", "aperto", "in corso", "attiva"],
    WON: ["won", "closed won", "closedwon", "win", "vinta", "vinto", "chiusa vinta", "acquisita"],
    LOST: ["lost", "closed lost", "closedlost", "lose", "persa", "perso", "chiusa persa"],
}


def _keys(*names) -> set[str]:
    return {name_key(str(n)) for n in names if n}


class ValueCatalogue:
    """Our pipelines, stages and lost reasons, by every name a file may use for them."""

    def __init__(self):
        self.pipelines = {p.pk: p for p in Pipeline.objects.all()}
        self.default_pipeline = Pipeline.objects.default()
        self.stages = {}
        self.stage_order: dict[int, list[Stage]] = {pk: [] for pk in self.pipelines}
        for stage in Stage.objects.order_by("pipeline_id", "order", "pk"):
            stage.pipeline = self.pipelines[stage.pipeline_id]
            self.stages[stage.pk] = stage
            self.stage_order[stage.pipeline_id].append(stage)
        self.reasons = {r.pk: r for r in LostReason.objects.all()}
        self.status_by_key = {header_key(w): code for code, words in STATUS_WORDS.items() for w in words}
        for code, label in STATUS_LABELS.items():
            for language in ("en", "it"):
                with translation.override(language):
                    self.status_by_key.setdefault(header_key(str(label)), code)

    # --- targets ------------------------------------------------------------------------------

    def target(self, field: str, target: str):
        """The record (or status code) a mapping's target names; None when it names nothing."""
        if field == "status":
            return target if target in STATUS_LABELS else None
        table = {"pipeline": self.pipelines, "stage": self.stages, "lost_reason": self.reasons}[field]
        try:
            return table.get(int(target))
        except (TypeError, ValueError):
            return None

    def choices(self, field: str) -> list[tuple[str, str]]:
        """(target, label) pairs a user picks from."""
        if field == "status":
            return [(code, str(label)) for code, label in STATUS_LABELS.items()]
        if field == "pipeline":
            return [(str(p.pk), p.display_name) for p in self.pipelines.values()]
        if field == "stage":
            return [
                (str(s.pk), f"{s.pipeline.display_name} › {s.display_name}")
                for stages in self.stage_order.values()
                for s in stages
            ]
        return [(str(r.pk), str(r)) for r in self.reasons.values() if r.active]

    # --- resolution by name -------------------------------------------------------------------

    def pipeline_named(self, value: str) -> Pipeline | None:
        key = name_key(value)
        return next((p for p in self.pipelines.values() if key in _keys(p.name, p.display_name)), None)

    def status_named(self, value: str) -> str | None:
        return self.status_by_key.get(header_key(value))

    def stage_named(self, value: str, pipeline: Pipeline) -> Stage | None:
        """A stage of ``pipeline`` by name, else the stage of the outcome the name says."""
        if pipeline is None:  # no pipeline at all yet
            return None
        key = name_key(value)
        stages = self.stage_order.get(pipeline.pk, [])
        found = next((s for s in stages if key in _keys(s.name, s.display_name)), None)
        if found is None and self.status_named(value) in (WON, LOST):
            found = self.stage_of_kind(pipeline, self.status_named(value))
        return found

    def stage_of_kind(self, pipeline: Pipeline, kind: str) -> Stage | None:
        return next((s for s in self.stage_order.get(pipeline.pk, []) if s.kind == kind), None)

    def reason_named(self, value: str) -> LostReason | None:
        key = name_key(value)
        return next((r for r in self.reasons.values() if key in _keys(r.name, str(r))), None)


def value_resolve(catalogue: ValueCatalogue, field: str, value: str, user_map: dict, *, pipeline=None):
    """What ``value`` of ``field`` means: a record or status code, :data:`SKIP`, or None (unknown).
    A stage is looked up in ``pipeline`` (the row's) unless the user mapped it explicitly."""
    chosen = (user_map.get(field) or {}).get(value)
    if chosen == SKIP:
        return SKIP
    if chosen:
        target = catalogue.target(field, chosen)
        if target is not None:
            return target
    if field == "pipeline":
        return catalogue.pipeline_named(value)
    if field == "status":
        return catalogue.status_named(value)
    if field == "stage":
        return catalogue.stage_named(value, pipeline or catalogue.default_pipeline)
    return catalogue.reason_named(value)


def row_pipeline(catalogue: ValueCatalogue, row_value: str, user_map: dict, default_name: str = ""):
    """The pipeline a row's stage is looked up in: its own pipeline cell (if that is known), the
    import's default pipeline, or the default one."""
    if row_value:
        found = value_resolve(catalogue, "pipeline", row_value, user_map)
        if found not in (None, SKIP):
            return found
    if default_name:
        found = catalogue.pipeline_named(default_name)
        if found is not None:
            return found
    return catalogue.default_pipeline


def file_values(kind: str, rows: list[dict], mapping: dict, user_map: dict, defaults: dict | None = None):
    """Every distinct value of the file's value-mapped columns, with what it resolves to:
    ``{field: [(value, target or SKIP or None, rows using it)]}``, in the order values appear."""
    if kind != ImportKind.OPPORTUNITY:
        return {}
    catalogue = ValueCatalogue()
    found: dict[str, dict[str, list]] = {f: {} for f in VALUE_FIELDS if mapping.get(f)}
    default_name = (defaults or {}).get("pipeline", "")
    for row in rows:
        pipeline_cell = str(row.get(mapping.get("pipeline", ""), "") or "").strip() if mapping.get("pipeline") else ""
        for field in found:
            value = " ".join(str(row.get(mapping[field], "") or "").split())
            if not value:
                continue
            entry = found[field].get(value)
            if entry is None:
                pipeline = row_pipeline(catalogue, pipeline_cell, user_map, default_name)
                target = value_resolve(catalogue, field, value, user_map, pipeline=pipeline)
                entry = found[field][value] = [value, target, 0]
            elif field == "stage" and entry[1] is not None:
                # The same stage name may be known in one row's pipeline and not in another's.
                pipeline = row_pipeline(catalogue, pipeline_cell, user_map, default_name)
                if value_resolve(catalogue, field, value, user_map, pipeline=pipeline) is None:
                    entry[1] = None
            entry[2] += 1
    return {field: [tuple(e) for e in values.values()] for field, values in found.items()}


def unknown_values(kind: str, rows: list[dict], mapping: dict, user_map: dict, defaults: dict | None = None):
    """``{field: [value, ...]}`` of the values nobody has said the meaning of yet."""
    unknown = {}
    for field, entries in file_values(kind, rows, mapping, user_map, defaults).items():
        values = [value for value, target, _count in entries if target is None]
        if values:
            unknown[field] = values
    return unknown
