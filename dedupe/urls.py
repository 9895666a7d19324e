from django.urls import path

from . import views

app_name = "dedupe"

urlpatterns = [
    path("", views.duplicate_list, name="list"),
    path("merge/", views.merge, name="merge"),
]
