from celery import shared_task

from sessions import services


@shared_task
def materialise_series_horizons() -> int:
    """Daily: extend every open series' meetings to the rolling horizon, one task each."""
    due = services.series_due_for_materialising()
    for series_id in due:
        materialise_series.delay(series_id)
    return len(due)


@shared_task
def materialise_series(series_id: int) -> int:
    return services.series_materialise(series_id=series_id)
