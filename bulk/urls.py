from django.urls import path

from . import views

app_name = "bulk"

urlpatterns = [
    path("<str:kind>/confirm/", views.bulk_confirm, name="confirm"),
    path("<str:kind>/apply/", views.bulk_apply, name="apply"),
    path("jobs/<int:pk>/", views.bulk_job_detail, name="job"),
    path("jobs/<int:pk>/progress/", views.bulk_job_progress, name="progress"),
]
