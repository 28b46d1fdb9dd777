from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    """Setting up organizations across the domain's packages (contactcenter and crm):
    the demo organization (``seed_demo``) and an installation file's organization
    (``onboarding``, applied by telephony's ``onboard`` command). No models."""

    name = "provisioning"
    verbose_name = "Provisioning"
