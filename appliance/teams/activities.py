"""What an authenticated activity is: a turn for the Aid, something to refuse, or something to ignore.

Only Microsoft Teams, only the configured tenant, only a sender with an Entra object id (a GUID: a UPN
or anything else is refused, `gate.judge_object_id`); group chats and channels get a polite refusal;
everything but messages is acknowledged and ignored. A message without an activity id is refused: it
could not be recognised when it is delivered again (`admission.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, ActivityTypes

from appliance import gate
from appliance.types import Turn

GROUP_REFUSAL = (
    "I only work in one-to-one chats, so that nobody else sees the changes you ask for. "
    "Please message me directly."
)


@dataclass(frozen=True)
class Inspection:
    """The verdict on one activity: `status` for the HTTP answer, and a turn or a polite reply."""

    status: int
    reason: str
    turn: Turn | None = None
    reply: str | None = None


def conversation_ref(activity: Activity) -> str:
    """The key a conversation's context, actions and reference are stored under."""
    return f"teams://msg/{activity.conversation.id}"


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant the activity comes from (channelData.tenant.id, else conversation.tenantId)."""
    channel_data: Any = activity.channel_data or {}
    tenant = (channel_data.get("tenant") or {}).get("id") if isinstance(channel_data, dict) else None
    return tenant or getattr(activity.conversation, "tenant_id", None)


def inspect(activity: Activity, allowed_tenant_id: str) -> Inspection:
    """Classify an activity whose token botbuilder already validated."""
    if activity.channel_id != "msteams":
        return Inspection(403, "not_teams")
    if not allowed_tenant_id or tenant_of(activity) != allowed_tenant_id:
        return Inspection(403, "wrong_tenant")
    if activity.conversation is None or not activity.conversation.id:
        return Inspection(400, "no_conversation")
    sender = activity.from_property
    if sender is None or not getattr(sender, "aad_object_id", None):
        return Inspection(403, "unknown_sender")
    if not gate.judge_object_id(str(sender.aad_object_id)).allowed:
        return Inspection(403, "not_an_object_id")
    if activity.type != ActivityTypes.message:
        return Inspection(200, "ignored_other_type")
    if (activity.conversation.conversation_type or "personal") != "personal":
        return Inspection(200, "not_personal", reply=GROUP_REFUSAL)
    if not activity.id:
        return Inspection(400, "no_activity_id")
    # A button press carries an object; any other value is kept as an unreadable press, so the
    # orchestrator answers "not understood" instead of treating it as typed text.
    card = None if activity.value is None else activity.value if isinstance(activity.value, dict) else {}
    turn = Turn(
        conversation_ref=conversation_ref(activity),
        activity_id=str(activity.id or ""),
        requester_id=str(sender.aad_object_id).lower(),
        requester_name=str(sender.name or ""),
        text=str(activity.text or ""),
        card=card,
    )
    return Inspection(202, "turn", turn=turn)
