from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("targets/", views.targets, name="targets"),
    path("targets/set/", views.target_set, name="target_set"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
]
