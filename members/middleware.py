import zoneinfo

from django.conf import settings
from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Show pages in the signed-in person's language and time zone.

    Visitors get the language from their cookie or browser (LocaleMiddleware) and
    the programme's default time zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        time_zone = settings.DEFAULT_VIEWER_TIME_ZONE
        if user is not None and user.is_authenticated:
            time_zone = user.time_zone or time_zone
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
        try:
            timezone.activate(zoneinfo.ZoneInfo(time_zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.DEFAULT_VIEWER_TIME_ZONE))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
