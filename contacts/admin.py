from django.contrib import admin

from .models import Contact, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "vat_number", "city", "province", "sector", "owner", "archived_at"]
    list_filter = ["sector", "province", "country", "owner", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "vat_number", "fiscal_code", "sdi_code", "pec", "city", "external_id"]
    autocomplete_fields = ["parent", "owner"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "job_title", "organization", "email", "phone", "owner", "archived_at"]
    list_filter = ["owner", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["first_name", "last_name", "email", "organization__name", "external_id"]
    autocomplete_fields = ["organization", "owner"]
    readonly_fields = ["created_at", "updated_at"]
