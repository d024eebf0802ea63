"""The Sender interface and its registry: one implementation per platform, chosen by `use`.

    [responder.senders.acme_x]
    use = "x"          # credentials only from the environment, e.g.
                       # DANGOL_RESPONDER__SENDERS__ACME_X__ACCESS_TOKEN

A sender takes its API client in the constructor, so tests point a real client at a loopback server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from dangol.core.registry import Registry


@dataclass(frozen=True)
class ReplyTarget:
    """The post being answered, as the platform knows it."""

    platform: str
    external_id: str
    thread_id: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """What the platform gave back for a posted reply."""

    external_id: str
    dry_run: bool = False


class Sender(Protocol):
    """Posts replies on one platform."""

    dry_run: bool

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Post `text` as a reply to `target`; raise SendError on failure."""
        ...

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """The id of a reply with this text already posted to `target` by us, if the platform can tell."""
        ...


senders = Registry(
    "sender",
    {
        "dry_run": "responder.senders.dry_run:DryRunSender",
        "x": "responder.senders.x:XSender",
        "reddit": "responder.senders.reddit:RedditSender",
        "mastodon": "responder.senders.mastodon:MastodonSender",
        "bluesky": "responder.senders.bluesky:BlueskySender",
        "youtube": "responder.senders.youtube:YouTubeSender",
        "googleplay": "responder.senders.googleplay:GooglePlaySender",
        "appstore": "responder.senders.appstore:AppStoreSender",
    },
    group="dangol.senders",
)
