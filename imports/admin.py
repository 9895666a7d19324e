from django.contrib import admin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["original_name", "kind", "user", "status", "created_count", "updated_count", "rejected_count"]
    list_filter = ["kind", "status"]
    readonly_fields = ["created_at", "started_at", "finished_at"]
