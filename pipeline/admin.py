from django.contrib import admin

from opportunities.services.rotting import stage_rot_days_apply

from .models import LostReason, Pipeline, Stage, StageChange


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["order", "name", "kind", "probability", "stale_after_days"]
    ordering = ["order"]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "created_at"]
    search_fields = ["name"]
    inlines = [StageInline]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for stage in formset.changed_objects or []:  # days to rot changed: when the deals rot too
            stage_rot_days_apply(stage[0])


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "pipeline", "order", "kind", "probability", "stale_after_days"]
    list_filter = ["pipeline", "kind"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "stale_after_days" in form.changed_data or "kind" in form.changed_data:
            stage_rot_days_apply(obj)


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "active"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    """The stage history is written by the stage service only: read-only here."""

    list_display = ["opportunity", "from_stage", "to_stage", "changed_by", "changed_at", "amount", "probability"]
    list_filter = ["to_stage__pipeline", "to_stage"]
    search_fields = ["opportunity__name"]
    list_select_related = ["opportunity", "from_stage", "to_stage", "changed_by"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
