"""Replies on Mastodon through Mastodon.py (`status_post(..., in_reply_to_id=...)`)."""

from __future__ import annotations

import html
import re
from typing import Any

from pydantic import SecretStr

from dangol.core.errors import SendError
from dangol.core.registry import Options
from responder.senders.base import ReplyTarget, Sent


class MastodonOptions(Options):
    api_base_url: str = "https://mastodon.social"
    access_token: SecretStr | None = None

    def complete(self) -> bool:
        return self.access_token is not None


def plain(content: str) -> str:
    """Mastodon returns HTML; compare replies by their text."""
    return html.unescape(re.sub(r"<[^>]+>", "", content.replace("<br>", "\n").replace("<br />", "\n"))).strip()


class MastodonSender:
    """Posts replies as the token's account."""

    dry_run = False
    Options = MastodonOptions

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def from_options(cls, options: MastodonOptions) -> MastodonSender:
        from mastodon import Mastodon

        token = options.access_token.get_secret_value() if options.access_token else None
        return cls(Mastodon(api_base_url=options.api_base_url, access_token=token, version_check_mode="none"))

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Post the reply (public visibility follows the account's default)."""
        from mastodon import MastodonError

        try:
            status = self.client.status_post(text, in_reply_to_id=target.external_id)
        except MastodonError as exc:
            raise SendError(f"Mastodon refused the reply to {target.external_id}: {exc}") from exc
        return Sent(external_id=str(status["id"]))

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """Look through our recent statuses for this reply."""
        from mastodon import MastodonError

        try:
            me = self.client.account_verify_credentials()
            statuses = self.client.account_statuses(me["id"], limit=40)
        except MastodonError as exc:
            raise SendError(f"could not check Mastodon for an earlier reply: {exc}") from exc
        for status in statuses:
            if str(status.get("in_reply_to_id")) == target.external_id and plain(status["content"]) == text.strip():
                return str(status["id"])
        return None
