"""Notification kinds, channels and a person's preferences: which channels get which kinds, and
when quiet hours hold e-mail and webhook messages back. Plain rules over plain values, so storage
(which writes the deliveries) and the delivery job read them the same way."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dangol.core.errors import ActionError

# What a person can be told about, with how the Inbox page names it.
KINDS: dict[str, str] = {
    "sla.warning": "SLA about to breach",
    "sla.breach": "SLA breached",
    "reply.pending": "reply waiting for your approval",
    "reply.approved": "your reply was approved",
    "reply.rejected": "your reply was returned",
    "queue.notify": "routing rule asked to notify",
    "alert": "spike alert",
}
# The channels besides the inbox, which always gets every notification.
CHANNELS = ("email", "webhook")


class Recipient(Protocol):
    """What deciding a person's channels needs of a staff member (the Staff row has it)."""

    email: str | None
    webhook_url: str | None
    notify_channels: dict[str, object]


def channels_for(person: Recipient, kind: str) -> list[str]:
    """The channels (besides the inbox) `person` gets `kind` on: those with an address, and whose
    kinds, when the person listed them, include `kind`."""
    targets = {"email": person.email, "webhook": person.webhook_url}
    chosen = person.notify_channels or {}
    out = []
    for channel in CHANNELS:
        kinds = chosen.get(channel)
        if targets[channel] and (kinds is None or (isinstance(kinds, list) and kind in kinds)):
            out.append(channel)
    return out


def parse_clock(value: str, what: str) -> time:
    """ "HH:MM" as a time; ActionError naming `what` otherwise."""
    try:
        hour, minute = (int(part) for part in value.split(":"))
        return time(hour, minute)
    except ValueError:
        raise ActionError(f"{what}: {value!r} is not a time such as 22:00") from None


def zone(name: str) -> ZoneInfo:
    """The time zone `name`; ActionError when there is none of that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ActionError(f"unknown time zone {name!r}; use a name such as Asia/Seoul or Europe/Berlin") from None


def quiet_until(now: datetime, start: str | None, end: str | None, timezone: str) -> datetime | None:
    """When the quiet hours `now` falls in end (UTC-aware), or None when `now` is outside them (or
    none are set). The window is local to `timezone` and may cross midnight (22:00-07:00)."""
    if not start or not end or start == end:
        return None
    tz = zone(timezone)
    local = now.astimezone(tz)
    begin, finish = parse_clock(start, "quiet hours start"), parse_clock(end, "quiet hours end")
    clock = local.time()
    if begin < finish:
        inside = begin <= clock < finish
        end_day = local.date()
    else:  # across midnight: 22:00 until 07:00 the next morning
        inside = clock >= begin or clock < finish
        end_day = local.date() + timedelta(days=1) if clock >= begin else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, finish, tz).astimezone(now.tzinfo)


def validate_channels(value: Mapping[str, object]) -> dict[str, list[str]]:
    """A preferences mapping channel → kinds, checked against CHANNELS and KINDS."""
    out: dict[str, list[str]] = {}
    for channel, kinds in value.items():
        if channel not in CHANNELS:
            raise ActionError(f"unknown channel {channel!r}; channels: {', '.join(CHANNELS)}")
        if not isinstance(kinds, list | tuple) or any(k not in KINDS for k in kinds):
            raise ActionError(f"{channel}: kinds must be a list of {', '.join(KINDS)}")
        out[channel] = [str(k) for k in kinds]
    return out
