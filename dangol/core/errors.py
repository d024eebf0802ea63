"""One error tree for the whole product.

    DangolError
    ├── ConfigError            bad config file, unknown key or implementation, placeholder secret
    ├── CollectError           a source could not be read
    │   ├── RateLimited        the platform asked us to wait (carries `retry_at`)
    │   ├── AuthError          credentials rejected or expired
    │   ├── BudgetExhausted    the paid read budget for this period is spent
    │   └── PayloadError       one record could not be parsed (goes to dead letters)
    ├── AnalysisError          a model could not be loaded or applied
    ├── ActionError            a staff action was refused (queue, customers, staff, topics)
    │   ├── NotFound           no such item / customer / staff member
    │   ├── InvalidTransition  the status change is not allowed
    │   ├── Conflict           someone else changed or claimed it first
    │   └── Forbidden          the role does not allow the action
    └── SendError              a reply could not be sent
        └── SendOutcomeUnknown the request may have reached the platform (a timeout, a dropped
                               connection): the reply stays "sending", and a retry looks for it first

Library errors (tweepy, praw, httpx, ...) are wrapped at the boundary so callers only need this tree.
"""

from __future__ import annotations

from datetime import datetime


class DangolError(Exception):
    """Base of every error Dangol raises on purpose."""


class ConfigError(DangolError):
    """The configuration is invalid; the message says what is accepted."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class CollectError(DangolError):
    """A source could not be collected."""


class RateLimited(CollectError):
    """The platform asked us to wait until `retry_at` (timezone-aware UTC)."""

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class AuthError(CollectError):
    """Credentials were rejected or have expired."""


class BudgetExhausted(CollectError):
    """The configured read budget for this period would be exceeded."""


class PayloadError(CollectError):
    """One record could not be parsed; it belongs in the dead-letter table."""

    def __init__(self, message: str, raw: object = None) -> None:
        super().__init__(message)
        self.raw = raw


class AnalysisError(DangolError):
    """A model could not be loaded or applied."""


class ActionError(DangolError):
    """A staff action was refused: on the queue, a customer, a staff account, a topic or a rule."""


class NotFound(ActionError):
    """The item, customer or staff member does not exist."""


class InvalidTransition(ActionError):
    """The status change is not allowed from the current status."""


class Conflict(ActionError):
    """Someone else changed or claimed the item first."""


class Forbidden(ActionError):
    """The staff member's role does not allow the action."""


class SendError(DangolError):
    """A reply could not be sent. `reply_id`: the reply, kept with the reason, that can be sent
    again (set by `responder.sending` once the reply is stored; None before that)."""

    reply_id: int | None = None


class SendOutcomeUnknown(SendError):
    """The platform may have posted the reply (the request went out, no answer came back): sending
    it again blindly could post it twice, so a retry asks the platform first (`responder.sending`)."""
