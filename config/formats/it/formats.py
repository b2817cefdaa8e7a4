"""Italian dates as written in a sentence: "domenica 14 marzo 2027, 19:00".

Django's Italian formats put a leading zero on the day ("05 marzo") and no comma before
the time; its Italian catalogue also capitalises day and month names ("Domenica 14
Marzo"), as a calendar heading would, where Italian prose writes them in lower case.
The names below are Django's own messages (django/utils/dates.py), listed here so that
makemessages keeps them in our catalogue (locale/it), whose lower-case translations
take precedence over Django's (LOCALE_PATHS comes first). meeting_time.py lowers its
own output too, so meeting times read right even before the catalogue is compiled.
"""

from django.utils.translation import gettext_noop

DATE_FORMAT = "j F Y"  # 14 marzo 2027
TIME_FORMAT = "H:i"  # 19:00
DATETIME_FORMAT = "l j F Y, H:i"  # domenica 14 marzo 2027, 19:00
MONTH_DAY_FORMAT = "j F"  # 14 marzo
YEAR_MONTH_FORMAT = "F Y"  # marzo 2027
SHORT_DATE_FORMAT = "d/m/Y"  # 14/03/2027
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 14/03/2027 19:00
FIRST_DAY_OF_WEEK = 1  # lunedì

LOWER_CASE_NAMES = (
    # Days ("l") and their abbreviations ("D").
    gettext_noop("Monday"),
    gettext_noop("Tuesday"),
    gettext_noop("Wednesday"),
    gettext_noop("Thursday"),
    gettext_noop("Friday"),
    gettext_noop("Saturday"),
    gettext_noop("Sunday"),
    gettext_noop("Mon"),
    gettext_noop("Tue"),
    gettext_noop("Wed"),
    gettext_noop("Thu"),
    gettext_noop("Fri"),
    gettext_noop("Sat"),
    gettext_noop("Sun"),
    # Months ("F").
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
)
