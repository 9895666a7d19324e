from django.contrib import admin

from .models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "content_type", "size", "opportunity", "organization", "contact", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["original_name", "description"]
    autocomplete_fields = ["opportunity", "organization", "contact", "uploaded_by"]
    readonly_fields = ["size", "content_type", "created_at"]
