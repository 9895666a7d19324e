from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("targets/", views.targets, name="targets"),
    path("targets/set/", views.target_set, name="target_set"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("time-in-stage/", views.stages, name="stages"),
    path("velocity/", views.velocity, name="velocity"),
    path("cohorts/", views.cohorts, name="cohorts"),
    path("forecast-accuracy/", views.accuracy, name="accuracy"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
]
