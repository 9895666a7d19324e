from django.contrib import admin

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "category", "unit_price", "currency", "vat_rate", "active"]
    list_filter = ["kind", "category", "active", "vat_rate"]
    search_fields = ["name", "code", "category"]
