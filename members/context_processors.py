from django.utils.functional import SimpleLazyObject


def roles(request):
    """Site roles for the navigation, computed only if a template asks."""
    user = getattr(request, "user", None)

    def is_coordinator() -> bool:
        return bool(user is not None and user.is_authenticated and user.is_coordinator)

    return {"viewer_is_coordinator": SimpleLazyObject(is_coordinator)}
