app_name = "sleepovers"
urlpatterns: list = []
