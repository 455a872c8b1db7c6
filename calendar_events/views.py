from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def index(request):
    """The constellation calendar arrives in a later release; this page says so."""
    return render(request, "calendar_events/index.html")
