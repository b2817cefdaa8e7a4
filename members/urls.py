from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.account, name="account"),
    path("language/", views.switch_language, name="switch_language"),
    path("privacy/", views.privacy_choices, name="privacy"),
    path("export/", views.export, name="export"),
    path("delete/", views.delete, name="delete"),
    path("audit/", views.audit_log, name="audit_log"),
    path("notifications/", views.notification_preferences, name="notifications"),
    path("outbox/", views.outbox, name="outbox"),
]
