from django.contrib import admin

from .models import Activity


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "due_at", "done", "owner", "opportunity"]
    list_filter = ["kind", "done", "owner"]
    search_fields = ["subject", "notes"]
    autocomplete_fields = ["opportunity", "contact", "organization", "owner"]
    date_hierarchy = "due_at"
