from django.utils.functional import SimpleLazyObject


def roles(request):
    """Site roles for the navigation, computed only if a template asks."""
    user = getattr(request, "user", None)

    def is_coordinator() -> bool:
        return bool(user is not None and user.is_authenticated and user.is_coordinator)

    def is_facilitator() -> bool:
        # One EXISTS query, and only when a template asks (the Reports link).
        from groups.selectors import staffs_a_group

        return bool(user is not None and user.is_authenticated and staffs_a_group(user))

    return {
        "viewer_is_coordinator": SimpleLazyObject(is_coordinator),
        "viewer_is_facilitator": SimpleLazyObject(is_facilitator),
    }
