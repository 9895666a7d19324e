from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.forms import StyledFormMixin

from .fields import fields_for
from .models import ImportKind

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

    def __init__(self, *args, kind, headers, initial_mapping, initial_defaults=None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_defaults = initial_defaults or {}
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

    def mapping(self) -> dict:
        return {name: header for name, header in self.cleaned_data.items() if header and name != "default_pipeline"}

    def defaults(self) -> dict:
        return {"pipeline": self.cleaned_data.get("default_pipeline") or ""}
