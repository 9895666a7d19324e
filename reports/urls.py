from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_index, name="index"),
    path("won-lost/", views.won_lost, name="won_lost"),
    path("funnel/", views.funnel, name="funnel"),
    path("forecast/", views.forecast, name="forecast"),
    path("lost-deals/", views.lost_deals, name="lost_deals"),
]
