from django.urls import path

from . import views

app_name = "tags"

urlpatterns = [
    path("<str:kind>/<int:pk>/add/", views.record_add, name="record_add"),
    path("<str:kind>/<int:pk>/remove/<int:tag_id>/", views.record_remove, name="record_remove"),
]
