from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("owners/lookup/", views.owner_lookup, name="owner_lookup"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url="/accounts/profile/"),
        name="password_change",
    ),
]
