from django.urls import path

from . import views

app_name = "customfields"

urlpatterns = [
    path("", views.custom_field_list, name="list"),
    path("new/", views.custom_field_create, name="create"),
    path("<int:pk>/", views.custom_field_edit, name="edit"),
    path("<int:pk>/archive/", views.custom_field_archive, name="archive"),
]
