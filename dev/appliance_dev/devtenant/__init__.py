"""The embedded dev tenant: Entra + Graph emulators over real HTTPS, for development, demo and tests.

The real msal and msgraph-sdk talk to it unmodified: the appliance keeps the real Microsoft URLs and
maps their hosts to the dev tenant at its transport (appliance/egress).
"""

from appliance_dev.devtenant.server import DevTenant

__all__ = ["DevTenant"]
