"""Webhook and e-mail delivery, against servers started on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangol.core.errors import ConfigError, SendError
from dangol.core.settings import ReportSettings
from reports.notify import post_webhook, send_email


def test_webhook_refusal_is_a_send_error_with_the_status(failing_webhook) -> None:
    url, received = failing_webhook
    with pytest.raises(SendError, match="403"):
        post_webhook(url, "hello")
    assert received.bodies == [{"text": "hello"}]


def test_unreachable_webhook_is_a_send_error_that_hides_the_secret_path() -> None:
    with pytest.raises(SendError, match="could not be reached") as info:
        post_webhook("http://127.0.0.1:9/services/T000/B000/secret-token", "hello")
    assert "secret-token" not in str(info.value) and "127.0.0.1" in str(info.value)
    assert info.value.__cause__ is None  # the httpx error, which repeats the URL, is not chained


def test_webhook_text_cannot_carry_slack_links_or_mentions(webhook) -> None:
    url, received = webhook
    post_webhook(url, "spike: <!channel> <https://evil.example|click> & more")
    assert received.bodies == [{"text": "spike: &lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; more"}]


def test_email_with_attachment_reaches_every_recipient(smtp, tmp_path: Path) -> None:
    port, received = smtp
    report = tmp_path / "weekly-2026-W47.pdf"
    report.write_bytes(b"%PDF-1.7 test")
    settings = ReportSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",  # the loopback test server speaks plain SMTP
        smtp_from="dangol@maru.test",
        email_to=["pr@maru.test", "cx@maru.test"],
    )
    send_email(
        settings, subject="Weekly report 2026-W47", text="주간 보고서", html="<p>주간 보고서</p>", attachments=[report]
    )
    assert received.envelopes == [("dangol@maru.test", ["pr@maru.test", "cx@maru.test"])]
    message = received.messages[0]
    assert message["Subject"] == "Weekly report 2026-W47"
    parts = {part.get_content_type(): part for part in message.walk()}
    assert parts["text/plain"].get_payload(decode=True).decode("utf-8").strip() == "주간 보고서"
    assert parts["application/pdf"].get_payload(decode=True) == b"%PDF-1.7 test"


def test_email_without_recipients_is_a_config_error_saying_what_is_needed() -> None:
    with pytest.raises(ConfigError, match="email_to"):
        send_email(ReportSettings(smtp_host="127.0.0.1"), subject="s", text="t")


def test_email_to_a_closed_port_is_a_send_error() -> None:
    settings = ReportSettings(smtp_host="127.0.0.1", smtp_port=9, email_to=["pr@maru.test"])
    with pytest.raises(SendError, match="127.0.0.1:9"):
        send_email(settings, subject="s", text="t")


def test_a_server_without_starttls_is_refused_by_default_and_nothing_is_sent(smtp) -> None:
    port, received = smtp
    settings = ReportSettings(smtp_host="127.0.0.1", smtp_port=port, email_to=["pr@maru.test"])
    with pytest.raises(SendError, match="no STARTTLS"):
        send_email(settings, subject="s", text="t")
    assert received.messages == []


def test_a_password_is_never_sent_over_plain_smtp(smtp) -> None:
    from pydantic import SecretStr

    port, received = smtp
    settings = ReportSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", email_to=["pr@maru.test"], smtp_password=SecretStr("pw")
    )
    with pytest.raises(ConfigError, match="in clear"):
        send_email(settings, subject="s", text="t")
    assert received.messages == []
