from django.contrib import admin

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


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "pipeline", "order", "kind", "probability", "stale_after_days"]
    list_filter = ["pipeline", "kind"]
    search_fields = ["name"]


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
