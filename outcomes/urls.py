from django.urls import path, re_path

from outcomes import views

app_name = "reports"

EXPORT = r"export\.(?P<fmt>csv|xlsx)$"

urlpatterns = [
    path("", views.overview, name="overview"),
    re_path(rf"^{EXPORT}", views.overview, name="overview_export"),
    path("attendance/", views.attendance, name="attendance"),
    re_path(rf"^attendance/{EXPORT}", views.attendance, name="attendance_export"),
    path("retention/", views.retention, name="retention"),
    re_path(rf"^retention/{EXPORT}", views.retention, name="retention_export"),
]
