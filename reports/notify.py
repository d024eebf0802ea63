"""Deliveries: a Slack-compatible webhook (JSON `{"text": …}`) and e-mail over SMTP.

Both raise SendError with what went wrong, so a scheduled job can log it and carry on.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from mimetypes import guess_type
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from dangol.core.errors import ConfigError, SendError
from dangol.core.settings import ReportSettings

TIMEOUT_SECONDS = 10.0


def post_webhook(url: str, text: str, *, transport: httpx.BaseTransport | None = None) -> None:
    """POST `{"text": text}` to an incoming-webhook URL; a non-2xx answer is a SendError.

    Errors name the webhook by its host only: the path of an incoming-webhook URL is its secret."""
    shown = masked_url(url)
    try:
        with httpx.Client(transport=transport, timeout=TIMEOUT_SECONDS) as client:
            response = client.post(url, json={"text": slack_escape(text)})
    except httpx.HTTPError as exc:
        raise SendError(f"webhook {shown} could not be reached: {type(exc).__name__}") from None
    if not response.is_success:
        raise SendError(f"webhook {shown} answered {response.status_code}: {response.text[:200]}")


def masked_url(url: str) -> str:
    """`https://hooks.example.com/…`: the scheme and host of `url`, never its path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


def slack_escape(text: str) -> str:
    """Text for Slack's mrkdwn: &, < and > escaped, so a post cannot make links or @channel pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def email_configured(settings: ReportSettings) -> bool:
    """True when there is an SMTP host and at least one recipient."""
    return bool(settings.smtp_host and settings.email_to)


def send_email(
    settings: ReportSettings,
    *,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Path] = (),
    to: Sequence[str] | None = None,
) -> None:
    """Send one message to `to` (default `settings.email_to`) through `settings.smtp_host`.

    TLS as `smtp_tls` says, with the server's certificate verified: a server that does not offer
    STARTTLS is refused rather than sent the password and the report in clear. A password (from the
    environment) logs in as `smtp_from`, and never over a plain connection.
    """
    recipients = list(settings.email_to if to is None else to)
    if not settings.smtp_host or not recipients:
        raise ConfigError("e-mail needs reports.smtp_host and at least one address in reports.email_to")
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings.smtp_from, ", ".join(recipients)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for path in attachments:
        maintype, _, subtype = (guess_type(path.name)[0] or "application/octet-stream").partition("/")
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    assert settings.smtp_host is not None
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if settings.smtp_password is not None and settings.smtp_tls == "none":
        raise ConfigError('reports.smtp_tls = "none" with an SMTP password would send it in clear; use TLS')
    context = ssl.create_default_context()
    try:
        smtp = (
            smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS, context=context)
            if settings.smtp_tls == "tls"
            else smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
        )
        with smtp:
            smtp.ehlo()
            if settings.smtp_tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SendError(
                        f"e-mail via {where}: the server offers no STARTTLS; nothing was sent "
                        '(set reports.smtp_tls = "none" only for a relay on this machine)'
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.smtp_password is not None:
                smtp.login(settings.smtp_from, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"e-mail via {where} failed: {exc}") from exc
