from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.forms import StyledFormMixin

from .fields import FRACTION, PERCENT, fields_for
from .importers import CREATE_BOTH, CREATE_NOTHING, CREATE_ORGANIZATIONS
from .models import ImportKind
from .values import SKIP, VALUE_FIELDS

MAX_UPLOAD_BYTES = 20_000_000


class UploadForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (comma or semicolon separated) or Excel .xlsx, with the column names in the first row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB: split it into smaller files.")
                % {"size": MAX_UPLOAD_BYTES // 1_000_000}
            )
        return file


class MappingForm(forms.Form):
    """One drop-down per field of the import: which column of the file holds it."""

    NOT_COLUMNS = ("default_pipeline", "create", "probability_scale", "save_as")

    def __init__(self, *args, kind, headers, initial_mapping, initial_defaults=None, initial_options=None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_defaults = initial_defaults or {}
        initial_options = initial_options or {}
        choices = [("", _("— not imported —")), *((h, h) for h in headers)]
        for spec in fields_for(kind):
            field = forms.ChoiceField(
                label=capfirst(spec.label),
                choices=choices,
                required=False,
                initial=initial_mapping.get(spec.name, ""),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            field.import_required = spec.required
            self.fields[spec.name] = field

        if kind == ImportKind.OPPORTUNITY:
            from pipeline.models import Pipeline

            self.fields["default_pipeline"] = forms.ChoiceField(
                label=_("Pipeline of rows without one"),
                choices=[("", _("the default pipeline"))] + [(p.name, p.display_name) for p in Pipeline.objects.all()],
                required=False,
                initial=initial_defaults.get("pipeline", ""),
                widget=forms.Select(attrs={"class": "form-select"}),
            )

            self.fields["create"] = forms.ChoiceField(
                label=_("Organizations and contacts the file names that do not exist yet"),
                choices=[
                    (CREATE_ORGANIZATIONS, _("create the organizations; a row naming an unknown contact is refused")),
                    (CREATE_BOTH, _("create the organizations and the contacts")),
                    (CREATE_NOTHING, _("create nothing: refuse the row")),
                ],
                required=False,
                initial=initial_options.get("create", CREATE_ORGANIZATIONS),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields["probability_scale"] = forms.ChoiceField(
                label=_("Probabilities in the file"),
                choices=[
                    ("", _("detect from the file")),
                    (PERCENT, _("0–100 (25 = 25 %)")),
                    (FRACTION, _("0–1 (0.25 = 25 %)")),
                ],
                required=False,
                initial=initial_options.get("probability_scale", ""),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        self.fields["save_as"] = forms.CharField(
            label=_("Save this mapping as"),
            required=False,
            max_length=100,
            help_text=_("A name such as “Pipedrive deals”: the next file from the same source is mapped the same way."),
            widget=forms.TextInput(attrs={"class": "form-control"}),
        )

    def mapping(self) -> dict:
        return {name: header for name, header in self.cleaned_data.items() if header and name not in self.NOT_COLUMNS}

    def options(self) -> dict | None:
        if "create" not in self.fields:
            return None
        return {
            "create": self.cleaned_data.get("create") or "",
            "probability_scale": self.cleaned_data["probability_scale"],
        }

    def defaults(self) -> dict:
        return {"pipeline": self.cleaned_data.get("default_pipeline") or ""}


VALUE_FIELD_LABELS = {
    "pipeline": _("Pipelines"),
    "stage": _("Stages"),
    "status": _("Statuses"),
    "lost_reason": _("Lost reasons"),
}


class ValueMappingForm(forms.Form):
    """One drop-down per distinct value of the file's pipeline, stage, status and lost reason
    columns: what it means here, or "skip" (its rows are not imported, and say so)."""

    def __init__(self, *args, values: dict, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.values = values  # {field: [(value, target, rows)]}
        self.groups = []
        for field in VALUE_FIELDS:
            entries = values.get(field) or []
            if not entries:
                continue
            rows = []
            for index, (value, target, count) in enumerate(entries):
                name = f"{field}-{index}"
                initial = "" if target is None else (SKIP if target == SKIP else _target_id(target))
                self.fields[name] = forms.ChoiceField(
                    label=value,
                    choices=[("", _("— choose —")), *choices[field], (SKIP, _("skip: do not import these rows"))],
                    required=False,
                    initial=initial,
                    widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
                )
                rows.append((self[name], value, count, target is None))
            self.groups.append((field, VALUE_FIELD_LABELS[field], rows))
        self.fields["save_as"] = forms.CharField(
            label=_("Save the mapping as"),
            required=False,
            max_length=100,
            widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        )

    def value_mapping(self) -> dict:
        """``{field: {value: target}}`` of what the user chose ("" forgets a choice)."""
        chosen = {}
        for field, entries in self.values.items():
            for index, (value, _target, _count) in enumerate(entries):
                chosen.setdefault(field, {})[value] = self.cleaned_data.get(f"{field}-{index}", "")
        return chosen


def _target_id(target) -> str:
    return str(target.pk) if hasattr(target, "pk") else str(target)
