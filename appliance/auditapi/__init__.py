"""The direct audit API: `GET /api/audit/records` (JSON Lines, paged) and `GET /api/audit/verify`,
for reviewers holding an admin-granted app role in the tenant's Entra (`identity.EntraTokenValidator`)."""

from appliance.auditapi.routes import AuditApi, AuditSource, RecordQuery

__all__ = ["AuditApi", "AuditSource", "RecordQuery"]
