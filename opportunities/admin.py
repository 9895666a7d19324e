from django.contrib import admin

from .models import Opportunity, OpportunityLine


class OpportunityLineInline(admin.TabularInline):
    model = OpportunityLine
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    """Browsing and fixing data. Stage, status and probability change only through the stage
    service (the deal's page, the board or the API), so they are read-only here."""

    list_display = ["name", "organization", "stage", "status", "amount", "currency", "expected_close_date", "owner"]
    list_filter = ["pipeline", "status", "type", "lead_source", "owner", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "organization__name", "contact__last_name", "external_id"]
    list_select_related = ["organization", "stage", "owner"]
    autocomplete_fields = ["organization", "contact", "owner"]
    readonly_fields = [
        "pipeline",
        "stage",
        "status",
        "probability",
        "closed_at",
        "stage_entered_at",
        "lost_reason",
        "amount_base",
        "version",
        "created_at",
        "updated_at",
        "archived_at",
    ]
    date_hierarchy = "created_at"
    inlines = [OpportunityLineInline]

    def has_add_permission(self, request):
        # New deals need their first stage history row: create them in the app or the API.
        return False
