from django.urls import path

from . import api

app_name = "analytics-api"

urlpatterns = [
    path("targets/", api.targets, name="targets"),
    path("time-in-stage/", api.stages, name="stages"),
    path("velocity/", api.velocity, name="velocity"),
    path("cohorts/", api.cohorts, name="cohorts"),
    path("forecast-accuracy/", api.accuracy, name="accuracy"),
]
