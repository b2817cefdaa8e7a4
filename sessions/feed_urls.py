from django.urls import path

from sessions import feed_views

app_name = "meetings_feeds"
urlpatterns = [
    # Tokens are URL-safe base64 (letters, digits, "-" and "_"), so they fit <slug>.
    path("calendar/<slug:token>.ics", feed_views.member_calendar, name="member_calendar"),
    path("groups/<slug:slug>/calendar.ics", feed_views.group_calendar, name="group_calendar"),
    path("feeds/meeting-guide.json", feed_views.meeting_guide, name="meeting_guide"),
    path("account/calendar/", feed_views.calendar_settings, name="calendar_settings"),
]
