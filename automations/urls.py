from django.urls import path

from . import views

app_name = "automations"

urlpatterns = [
    path("", views.rule_list, name="list"),
    path("new/", views.rule_create, name="create"),
    path("<int:pk>/", views.rule_edit, name="edit"),
    path("<int:pk>/toggle/", views.rule_toggle, name="toggle"),
    path("<int:pk>/preview/", views.rule_preview, name="preview"),
]
