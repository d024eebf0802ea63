"""Replies on Reddit through PRAW (`submission.reply()` / `comment.reply()`)."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from dangol.core.errors import SendError
from dangol.core.registry import Options
from responder.senders.base import ReplyTarget, Sent


class RedditOptions(Options):
    """A script app with the posting account's password (environment only)."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    user_agent: str = "dangol/0.1 (social CRM replies)"

    def complete(self) -> bool:
        return all((self.client_id, self.client_secret, self.username, self.password))


class RedditSender:
    """Replies to a submission (t3_) or a comment (t1_) by its fullname."""

    dry_run = False
    Options = RedditOptions

    def __init__(self, reddit: Any) -> None:
        self.reddit = reddit

    @classmethod
    def from_options(cls, options: RedditOptions) -> RedditSender:
        import praw

        return cls(
            praw.Reddit(
                client_id=options.client_id,
                client_secret=options.client_secret.get_secret_value() if options.client_secret else None,
                username=options.username,
                password=options.password.get_secret_value() if options.password else None,
                user_agent=options.user_agent,
            )
        )

    def _thing(self, fullname: str) -> Any:
        kind, _, base36 = fullname.partition("_")
        if kind == "t1":
            return self.reddit.comment(id=base36)
        if kind == "t3":
            return self.reddit.submission(id=base36)
        raise SendError(f"cannot reply to Reddit id {fullname!r}; expected a t1_ (comment) or t3_ (post) fullname")

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Post the reply; its fullname (t1_…) comes back."""
        from praw.exceptions import PRAWException
        from prawcore.exceptions import PrawcoreException

        try:
            comment = self._thing(target.external_id).reply(text)
        except (PRAWException, PrawcoreException) as exc:
            raise SendError(f"Reddit refused the reply to {target.external_id}: {exc}") from exc
        if comment is None:
            raise SendError(f"Reddit did not return the reply to {target.external_id} (thread locked or deleted?)")
        return Sent(external_id=str(comment.fullname))

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """Look through our newest comments for this reply."""
        from praw.exceptions import PRAWException
        from prawcore.exceptions import PrawcoreException

        try:
            for comment in self.reddit.user.me().comments.new(limit=100):
                if comment.parent_id == target.external_id and comment.body.strip() == text.strip():
                    return str(comment.fullname)
        except (PRAWException, PrawcoreException) as exc:
            raise SendError(f"could not check Reddit for an earlier reply: {exc}") from exc
        return None
