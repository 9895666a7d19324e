from django.urls import path

from . import api

app_name = "reports-api"

urlpatterns = [
    path("won-lost/", api.won_lost, name="won_lost"),
    path("funnel/", api.funnel, name="funnel"),
    path("forecast/", api.forecast, name="forecast"),
    path("lost-deals/", api.lost_deals, name="lost_deals"),
]
