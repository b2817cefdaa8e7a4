from django.contrib import admin
from django.urls import include, path

from config import views
from members import mfa_setup
from members import views as members_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("privacy/", views.privacy, name="privacy"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("unsubscribe/<str:token>/", members_views.unsubscribe, name="unsubscribe"),
    # allauth's activation page, keeping where the person was going (members/mfa_setup.py).
    path("accounts/2fa/totp/activate/", mfa_setup.activate_totp, name="mfa_activate_totp"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("members.urls")),
    path("", include("sessions.urls")),
    path("", include("sessions.feed_urls")),
    path("groups/", include("groups.urls")),
    path("reports/", include("outcomes.urls")),
    path("admin/", admin.site.urls),
]
