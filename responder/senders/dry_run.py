"""The sender used when sending is off or credentials are missing: records, never posts."""

from __future__ import annotations

import hashlib

from responder.senders.base import ReplyTarget, Sent


class DryRunSender:
    """Pretends to post: the id is derived from the target and text, so a retry finds the 'same' reply."""

    dry_run = True

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Return a stable dry-run id; nothing leaves the machine."""
        return Sent(external_id=self._id(target, text), dry_run=True)

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """A dry run 'posted' exactly what it was given, so the retry's answer is the same id."""
        return self._id(target, text)

    @staticmethod
    def _id(target: ReplyTarget, text: str) -> str:
        digest = hashlib.sha256(f"{target.platform}:{target.external_id}:{text}".encode()).hexdigest()[:16]
        return f"dry-run:{digest}"
