from django.urls import path

from . import views

app_name = "savedviews"

urlpatterns = [
    path("menu/", views.saved_view_menu, name="menu"),
    path("save/", views.saved_view_save, name="save"),
    path("<int:pk>/", views.saved_view_open, name="open"),
    path("<int:pk>/delete/", views.saved_view_delete, name="delete"),
    path("<int:pk>/default/", views.saved_view_default, name="default"),
]
