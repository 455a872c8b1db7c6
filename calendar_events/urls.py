app_name = "calendar_events"
urlpatterns: list = []
