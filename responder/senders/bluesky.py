"""Replies on Bluesky through the atproto SDK (`send_post` with a reply reference: root and parent)."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from dangol.core.errors import SendError
from dangol.core.registry import Options
from responder.senders.base import ReplyTarget, Sent


class BlueskyOptions(Options):
    base_url: str | None = None  # the PDS; None means bsky.social
    handle: str | None = None
    app_password: SecretStr | None = None

    def complete(self) -> bool:
        return bool(self.handle and self.app_password)


def reply_refs(target: ReplyTarget) -> tuple[dict[str, str], dict[str, str]]:
    """(root, parent) strong refs from the stored post view: a reply's root is its thread's first post."""
    cid = target.raw.get("cid")
    if not cid:
        raise SendError(f"cannot reply to Bluesky post {target.external_id}: the stored post has no cid")
    parent = {"uri": target.external_id, "cid": str(cid)}
    reply = (target.raw.get("record") or {}).get("reply") or {}
    root = reply.get("root") or parent
    return {"uri": str(root["uri"]), "cid": str(root["cid"])}, parent


class BlueskySender:
    """Posts replies as the logged-in account."""

    dry_run = False
    Options = BlueskyOptions

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def from_options(cls, options: BlueskyOptions) -> BlueskySender:
        from atproto import Client

        client = Client(base_url=options.base_url)
        client.login(options.handle, options.app_password.get_secret_value() if options.app_password else None)
        return cls(client)

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Post the reply; its at:// uri comes back."""
        from atproto import models
        from atproto.exceptions import AtProtocolError

        root, parent = reply_refs(target)
        ref = models.AppBskyFeedPost.ReplyRef(
            root=models.ComAtprotoRepoStrongRef.Main(**root), parent=models.ComAtprotoRepoStrongRef.Main(**parent)
        )
        try:
            response = self.client.send_post(text=text, reply_to=ref)
        except AtProtocolError as exc:
            raise SendError(f"Bluesky refused the reply to {target.external_id}: {exc}") from exc
        return Sent(external_id=str(response.uri))

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """Look through our recent posts for this reply."""
        from atproto.exceptions import AtProtocolError

        try:
            feed = self.client.get_author_feed(actor=self.client.me.did, limit=50)
        except AtProtocolError as exc:
            raise SendError(f"could not check Bluesky for an earlier reply: {exc}") from exc
        for item in feed.feed:
            record = item.post.record
            reply = getattr(record, "reply", None)
            if reply is not None and reply.parent.uri == target.external_id and record.text.strip() == text.strip():
                return str(item.post.uri)
        return None
