from django.urls import path

from . import views

app_name = "notes"

urlpatterns = [
    path("<str:kind>/<int:pk>/add/", views.note_add, name="add"),
    path("<str:kind>/<int:pk>/mentions/", views.mention_lookup, name="mentions"),
    path("<int:pk>/edit/", views.note_edit, name="edit"),
    path("<int:pk>/pin/", views.note_pin, name="pin"),
    path("<int:pk>/delete/", views.note_delete, name="delete"),
]
