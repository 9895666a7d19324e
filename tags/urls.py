app_name = "tags"

urlpatterns = []
