"""Replies on X through tweepy's v2 Client (`create_tweet(..., in_reply_to_tweet_id=...)`)."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from dangol.core.errors import SendError
from dangol.core.registry import Options
from responder.senders.base import ReplyTarget, Sent


class XOptions(Options):
    """OAuth 1.0a user context: posting needs the account's own tokens (environment only)."""

    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None

    def complete(self) -> bool:
        return all((self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret))


class XSender:
    """Posts replies as the authenticated account."""

    dry_run = False
    Options = XOptions

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def from_options(cls, options: XOptions) -> XSender:
        """Build a tweepy Client from the credentials."""
        import tweepy

        def secret(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value else None

        return cls(
            tweepy.Client(
                consumer_key=secret(options.consumer_key),
                consumer_secret=secret(options.consumer_secret),
                access_token=secret(options.access_token),
                access_token_secret=secret(options.access_token_secret),
            )
        )

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Post the reply; the new tweet's id comes back."""
        import tweepy

        try:
            response = self.client.create_tweet(text=text, in_reply_to_tweet_id=target.external_id, user_auth=True)
        except tweepy.TweepyException as exc:
            raise SendError(f"X refused the reply to {target.external_id}: {exc}") from exc
        return Sent(external_id=str(response.data["id"]))

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """Look through our recent tweets for this reply (same parent, same text)."""
        import tweepy

        try:
            me = self.client.get_me(user_auth=True).data
            recent = self.client.get_users_tweets(
                me["id"], max_results=100, tweet_fields=["referenced_tweets"], user_auth=True
            )
        except tweepy.TweepyException as exc:
            raise SendError(f"could not check X for an earlier reply: {exc}") from exc
        for tweet in recent.data or []:
            refs = tweet.get("referenced_tweets") or []
            replied_to = {str(r["id"]) for r in refs if r.get("type") == "replied_to"}
            if target.external_id in replied_to and tweet["text"].strip() == text.strip():
                return str(tweet["id"])
        return None
