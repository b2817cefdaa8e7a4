"""Keep signed-in people's pages out of browser and proxy caches.

Rosters, attendance sheets, meeting pages, account pages, the data export, reports, the
audit log and the outbox all show personal data; a page left in the cache of a shared
computer, or in a proxy, would show it to the next person. So every response to a
signed-in person says `Cache-Control: private, no-store` and `Vary: Cookie`, unless the
view chose its own caching (the private calendar feed keeps `private, max-age=900` so
calendar apps can poll it, public feeds keep `public`). Visitors' pages are left as the
views made them.
"""

from django.conf import settings
from django.utils.cache import patch_cache_control, patch_vary_headers


class PrivateCacheControlMiddleware:
    """Sits after AuthenticationMiddleware, so it sees request.user and every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _signed_in(request) and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
            patch_vary_headers(response, ("Cookie",))
        return response


def _signed_in(request) -> bool:
    """Whether the response goes to a signed-in person (just signed in included).

    A request with no session cookie, whose view started no session, comes from a
    visitor: answered without loading the session, so the visitor's response gains no
    `Vary: Cookie` from this check.
    """
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None:
        return False
    if settings.SESSION_COOKIE_NAME not in request.COOKIES and not session.modified:
        return False
    return user.is_authenticated
