from django.db.models import QuerySet

from groups.models import GroupStatus, SupportGroup, Visibility


def directory_groups() -> QuerySet[SupportGroup]:
    """Groups a visitor may find in the directory: listed and not closed."""
    return SupportGroup.objects.filter(visibility=Visibility.LISTED).exclude(
        status=GroupStatus.CLOSED
    )
