from django.contrib import admin

from .models import Quote, QuoteLine


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "opportunity", "organization", "status", "issue_date", "valid_until"]
    list_filter = ["status", "year"]
    search_fields = ["title", "organization__name", "opportunity__name"]
    autocomplete_fields = ["opportunity", "organization", "contact", "owner", "revision_of"]
    readonly_fields = ["year", "sequence", "sent_at", "decided_at", "created_at", "updated_at"]
    inlines = [QuoteLineInline]
