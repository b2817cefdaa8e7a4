from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.account, name="account"),
    path("language/", views.switch_language, name="switch_language"),
]
