"""Query pieces that every app's selectors share."""

from django.db.models import Func, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def correlated_count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` (filtered on OuterRef()s) as an integer annotation.

    A correlated subquery rather than Count() over a join: the outer query then needs no
    GROUP BY over every column it selects, which is costly to build and to plan.
    """
    return Coalesce(
        Subquery(
            queryset.order_by()
            .annotate(count=Func(Value(1), function="COUNT"))
            .values("count")[:1],
            output_field=IntegerField(),
        ),
        0,
    )
