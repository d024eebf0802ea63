"""Keeping secrets and personal data out of logs, errors and exports.

`redact_secrets` removes every configured secret value from a text (used on every error that
is logged or stored). `redact_pii` masks e-mail addresses, phone numbers and Korean resident
registration numbers (주민등록번호) for exports and logs; `install_log_redaction` applies both to
every log line the CLI writes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretStr

from dangol.core.settings import SECRET_KEY_SUFFIXES

# An address starts where its local part starts: without the lookbehind every position inside a
# long run of such characters was tried as a start, each scanning to the run's end (quadratic).
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Korean RRN: six birth digits, a dash, then a 1-8 gender/century digit and six more.
RRN = re.compile(r"\b\d{6}\s?-\s?[1-8]\d{6}\b")
PHONE = re.compile(r"(?<!\w)(?:\+?\d{1,3}[\s.-]?)?(?:\(?\d{2,4}\)?[\s.-]?)\d{3,4}[\s.-]?\d{4}(?!\w)")


def secret_values(obj: Any) -> list[str]:
    """Every SecretStr value inside a settings object (models, dicts and lists walked)."""
    found: list[str] = []
    if isinstance(obj, SecretStr):
        value = obj.get_secret_value()
        if value:
            found.append(value)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            found.extend(secret_values(getattr(obj, name)))
        for key, value in (obj.model_extra or {}).items():
            # Implementation options arrive untyped; a secret-named key is a secret all the same.
            if isinstance(value, str) and key.lower().endswith(SECRET_KEY_SUFFIXES) and value:
                found.append(value)
            else:
                found.extend(secret_values(value))
    elif isinstance(obj, dict):
        for value in obj.values():
            found.extend(secret_values(value))
    elif isinstance(obj, list | tuple):
        for value in obj:
            found.extend(secret_values(value))
    return found


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret (longest first, 4+ characters) replaced by [REDACTED]."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[REDACTED]")
    return text


# Each kind of personal data and its mask, in the order they are masked (an RRN before the phone
# pattern could take its digits).
PII = ((EMAIL, "[email]"), (RRN, "[rrn]"), (PHONE, "[phone]"))


def redact_pii(text: str) -> str:
    """`text` with e-mail addresses, resident registration numbers and phone numbers masked."""
    for pattern, mask in PII:
        text = pattern.sub(mask, text)
    return text


def first_pii(text: str) -> str | None:
    """The first e-mail address, resident registration number or phone number in `text` that
    `redact_pii` would mask, or None."""
    return next((m.group(0) for pattern, _ in PII if (m := pattern.search(text))), None)


class RedactingFilter(logging.Filter):
    """Masks personal data (and the given secrets) in every record passing through a handler."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact_pii(redact_secrets(message, self.secrets))
        record.args = None
        if record.exc_text:
            record.exc_text = redact_pii(redact_secrets(record.exc_text, self.secrets))
        return True


def install_log_redaction(secrets: Iterable[str] = ()) -> None:
    """Add a RedactingFilter to every handler of the root logger (call after logging.basicConfig)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(secrets))
