from django.urls import path

from sessions import views

app_name = "meetings"
urlpatterns = [
    path("meetings/", views.my_meetings, name="mine"),
    path("meetings/<int:pk>/", views.detail, name="detail"),
    path("meetings/<int:pk>/rsvp/", views.rsvp, name="rsvp"),
    path("meetings/<int:pk>/calendar.ics", views.meeting_ics, name="ics"),
    path("meetings/<int:pk>/edit/", views.edit, name="edit"),
    path("meetings/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("meetings/<int:pk>/attendance/", views.attendance, name="attendance"),
    path(
        "meetings/<int:pk>/attendance/details/",
        views.attendance_details,
        name="attendance_details",
    ),
    path("meetings/<int:pk>/attendance/unlock/", views.attendance_unlock, name="attendance_unlock"),
    path("meetings/<int:pk>/attendance/bulk/", views.attendance_bulk, name="attendance_bulk"),
    path("meetings/<int:pk>/reinstate/", views.reinstate, name="reinstate"),
    path("groups/<slug:slug>/meetings/new/", views.schedule, name="schedule"),
    path("groups/<slug:slug>/meetings/new/preview/", views.schedule_preview, name="preview"),
    path("meetings/series/<int:pk>/", views.series, name="series"),
]
