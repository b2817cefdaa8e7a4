"""A test-only URLconf: the whole site plus one page guarded by members.decorators.mfa_required."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns
from members.decorators import mfa_required

PROBE_BODY = "Roster of group members: private"


@mfa_required
def staff_probe(request):
    return HttpResponse(PROBE_BODY)


urlpatterns = [path("probe/staff/", staff_probe, name="probe_staff"), *site_urlpatterns]
