from datetime import timedelta

import pytest
from django.utils import timezone

from sessions import services, tasks
from sessions.models import Meeting, MeetingSeries


@pytest.mark.django_db
def test_daily_task_extends_series_whose_horizon_is_running_out(eager_celery):
    from sessions import recurrence
    from tests.factories import CoordinatorFactory, SupportGroupFactory

    group = SupportGroupFactory()
    series = services.series_create(
        group=group,
        plan=services.MeetingPlan(
            schedule=recurrence.Schedule(
                frequency=recurrence.Frequency.WEEKLY,
                starts_on=timezone.localdate() + timedelta(days=1),
                start_time=timezone.datetime(2000, 1, 1, 19, 0).time(),
            ),
            duration_minutes=60,
            place={"format": "online", "video_url": "https://video.example.org/x"},
        ),
        actor=CoordinatorFactory(),
    )
    before = Meeting.objects.filter(series=series).count()
    assert tasks.materialise_series_horizons() == 0  # nothing due yet

    MeetingSeries.objects.filter(pk=series.pk).update(
        materialised_until=timezone.now() + timedelta(days=30)
    )
    Meeting.objects.filter(
        series=series, starts_at__gt=timezone.now() + timedelta(days=30)
    ).delete()
    assert tasks.materialise_series_horizons() == 1
    assert Meeting.objects.filter(series=series).count() == before
    assert tasks.materialise_series_horizons() == 0
