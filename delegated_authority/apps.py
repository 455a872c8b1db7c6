from django.apps import AppConfig


class DelegatedAuthorityConfig(AppConfig):
    name = "delegated_authority"
    verbose_name = "Delegated authority"
