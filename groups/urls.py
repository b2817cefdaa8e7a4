from django.urls import path

from groups import views

app_name = "groups"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("new/", views.create, name="create"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/join/", views.join, name="join"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path("<slug:slug>/conduct/", views.conduct, name="conduct"),
    path("<slug:slug>/manage/", views.manage, name="manage"),
    path("<slug:slug>/manage/edit/", views.edit, name="edit"),
    path("<slug:slug>/manage/conduct/", views.conduct_edit, name="conduct_edit"),
    path("<slug:slug>/manage/invite/", views.invite, name="invite"),
    path(
        "<slug:slug>/manage/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "<slug:slug>/manage/members/<int:membership_id>/<slug:action>/",
        views.member_action,
        name="member_action",
    ),
]
