from django.contrib.admin.apps import AdminConfig


class PeerSupportAdminConfig(AdminConfig):
    default_site = "config.admin.PeerSupportAdminSite"
