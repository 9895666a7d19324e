from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("register/", views.processing_register, name="register"),
    path("contacts/<int:pk>/consents/new/", views.consent_add, name="consent_add"),
    path("contacts/<int:pk>/export/", views.contact_export, name="contact_export"),
    path("contacts/<int:pk>/erase/", views.contact_erase, name="contact_erase"),
    path("contacts/<int:pk>/legal-hold/", views.legal_hold, name="legal_hold"),
]
