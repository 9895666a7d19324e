from django.contrib import admin

from .models import ExchangeRate, OutboxEvent


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]
    date_hierarchy = "valid_from"

    def save_model(self, request, obj, form, change):
        # Through the service, so that converted deal amounts follow the new rate.
        from .services import exchange_rate_set

        saved = exchange_rate_set(currency=obj.currency, valid_from=obj.valid_from, rate=obj.rate)
        obj.pk = saved.pk


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "created_at", "delivered_at", "attempts"]
    list_filter = ["topic", ("delivered_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["topic", "payload", "created_at", "next_attempt_at", "delivered_at", "attempts", "last_error"]

    def has_add_permission(self, request):
        return False
