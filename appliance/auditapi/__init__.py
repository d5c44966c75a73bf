"""The direct audit API: `GET /api/audit/records` (JSON Lines, paged) and `GET /api/audit/verify`,
for reviewers holding an admin-granted app role in the tenant's Entra (`identity.EntraTokenValidator`)."""

from appliance.audit.filters import RecordFilter
from appliance.auditapi.routes import AuditApi, AuditSource

__all__ = ["AuditApi", "AuditSource", "RecordFilter"]
