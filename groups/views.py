from django.shortcuts import get_object_or_404, render

from groups import selectors
from groups.models import SupportGroup


def directory(request):
    return render(request, "groups/directory.html", {"groups": selectors.directory_groups()})


def detail(request, slug):
    group = get_object_or_404(SupportGroup, slug=slug)
    return render(request, "groups/detail.html", {"group": group})
