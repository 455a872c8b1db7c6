app_name = "constellation"
urlpatterns: list = []
