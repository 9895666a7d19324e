from django.urls import path

from . import api

app_name = "analytics-api"

urlpatterns = [
    path("targets/", api.targets, name="targets"),
]
