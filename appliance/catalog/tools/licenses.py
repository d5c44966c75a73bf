"""License tools: list the tenant's subscriptions, assign and remove a license."""

from appliance.catalog.shapes import SkuPartNumber, Upn
from appliance.catalog.spec import ToolArguments, ToolSpec


class NoArgs(ToolArguments):
    pass


class LicenseArgs(ToolArguments):
    user: Upn
    sku: SkuPartNumber


TOOLS = (
    ToolSpec(
        name="m365_license_list",
        description="List the tenant's licenses (SKUs) with how many are used and free.",
        arguments=NoArgs,
        graph_operation="GET /subscribedSkus",
        permission="Organization.Read.All",
        admin_role="Directory Readers",
        changes_state=False,
    ),
    ToolSpec(
        name="m365_license_assign",
        description="Give a user a license, by SKU part number (for example ENTERPRISEPACK for Office 365 E3).",
        arguments=LicenseArgs,
        target_keys=("user",),
        graph_operation="POST /users/{id}/assignLicense addLicenses",
        permission="LicenseAssignment.ReadWrite.All",
        extra_permissions=("User.Read.All", "Organization.Read.All"),
        admin_role="License Administrator",
        changes_state=True,
        summary_template="Assign {sku} to {user}",
    ),
    ToolSpec(
        name="m365_license_remove",
        description="Take a license away from a user, by SKU part number.",
        arguments=LicenseArgs,
        target_keys=("user",),
        graph_operation="POST /users/{id}/assignLicense removeLicenses",
        permission="LicenseAssignment.ReadWrite.All",
        extra_permissions=("User.Read.All", "Organization.Read.All"),
        admin_role="License Administrator",
        changes_state=True,
        summary_template="Remove {sku} from {user}",
    ),
)
