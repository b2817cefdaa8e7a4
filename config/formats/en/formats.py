"""English dates as the programme's people read them: day first, 24-hour clock.

Django's stock English formats are American ("Nov. 28, 2026, 2:16 p.m."); our
members and facilitators are mostly in Europe, and meeting times are 24-hour.
"""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
