from .selectors import BADGE_MAX, unread_count


def unread(request):
    """The navigation's count of unread notifications (one query, signed-in only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread": unread_count(user), "badge_max": BADGE_MAX}
