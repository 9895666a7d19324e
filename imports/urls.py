from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_start, name="start"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/preview/", views.import_preview_page, name="preview"),
    path("<int:pk>/values/", views.import_values_page, name="values"),
    path("<int:pk>/run/", views.import_run_page, name="run"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/rejected.csv", views.import_rejected_download, name="rejected"),
]
