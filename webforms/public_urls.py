"""The public side of the web forms: no log-in, reachable from other sites."""

from django.urls import path

from . import views

app_name = "webforms_public"

urlpatterns = [
    path("<slug:slug>/", views.form_public, name="form"),
    path("<slug:slug>/submit.json", views.form_submit_json, name="submit_json"),
]
