from .selectors import BADGE_MAX, UnreadCount


def unread(request):
    """The navigation's count of unread notifications (read when shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_unread": UnreadCount(user), "badge_max": BADGE_MAX}
