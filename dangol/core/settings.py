"""Typed settings: loaded once from `config.toml` plus `DANGOL_…` environment variables.

`load_settings(path)` is the only entry point; the CLI calls it once and passes the result
down. Environment variables override the file, nested with `__`
(`DANGOL_SOURCES__ACME_X__BEARER_TOKEN`), and `DANGOL_DATABASE_URL` selects the database.
Secrets come only from the environment: a secret-looking key in the file is refused, and so
is a placeholder value such as "changeme".
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from dangol.core.brands import DEFAULT_OWN_KEY, Brand, BrandCatalog
from dangol.core.errors import ConfigError
from dangol.core.text import normalize_handle
from dangol.core.webhooks import EVENT_TYPES

DEFAULT_CONFIG = Path("config.toml")
SECRET_KEY_SUFFIXES = (
    "token",
    "secret",
    "password",
    "api_key",
    "client_id_secret",
    "private_key",
    "service_account_json",
)
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "xxx", "todo", "secret", "your-token", "placeholder"}


log = logging.getLogger(__name__)


class Section(BaseModel):
    """A config table: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Implementation(BaseModel):
    """A table that names its implementation with `use`; the options belong to that implementation."""

    model_config = ConfigDict(extra="allow")
    use: str

    def options(self) -> dict[str, Any]:
        """The keys other than the common ones, for the implementation to validate."""
        return dict(self.model_extra or {})


class BrandSettings(Section):
    name: str = "Dangol Demo"
    timezone: str = "UTC"
    # Our own accounts: their posts are never queued as customer voice.
    own_handles: list[str] = Field(default_factory=list)

    def own_accounts(self) -> list[tuple[str | None, str]]:
        """(platform or None for every platform, lowercase handle) of each own account.

        Entries are "platform:handle" or a bare handle; only a leading @ is decoration, since
        Mastodon handles keep the one before their instance ("mastodon:maru@coffee.social").
        """
        accounts: list[tuple[str | None, str]] = []
        for entry in self.own_handles:
            platform, sep, handle = entry.strip().partition(":")
            accounts.append((platform.lower(), normalize_handle(handle)) if sep else (None, normalize_handle(platform)))
        return accounts

    def is_own(self, platform: str, handle: str) -> bool:
        """True when (platform, handle) is one of the brand's own accounts."""
        handle = normalize_handle(handle)
        return any(h == handle and p in (None, platform) for p, h in self.own_accounts())

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as 'Asia/Seoul'") from exc
        return value


class BrandEntry(Section):
    """One brand of `[brands.<key>]`: the own brand (`own = true`, exactly one) or a competitor."""

    name: str = ""
    own: bool = False
    # Accounts as "platform:handle" or a bare handle: a post by one, or naming one as @handle, is
    # about this brand. The own brand's default to [brand] own_handles.
    handles: list[str] = Field(default_factory=list)
    # Words that name the brand in a post, any language, case-insensitive ("byeol coffee", "별빛커피").
    keywords: list[str] = Field(default_factory=list)


class DatabaseSettings(Section):
    url: str = "sqlite:///var/dangol.db"
    echo: bool = False


class SourceSettings(Implementation):
    enabled: bool = True
    # The [brands] key this source collects for (its query names that brand); None: the own brand.
    brand: str | None = None
    query: str = ""
    every_minutes: int = Field(default=15, ge=1)


class EncoderSettings(Implementation):
    use: str = "onnx"


class ClassifierSettings(Implementation):
    use: str = "head"


class TopicSettings(Section):
    name: str
    description: str = ""
    examples: list[str] = Field(default_factory=list)
    team: str = "support"
    languages: list[str] = Field(default_factory=list)


class IntentSettings(Section):
    """Few-shot examples of each intent, in any language (see nlp/intent.py); "other" needs none."""

    complaint: list[str] = Field(
        default_factory=lambda: [
            "my order never arrived and nobody answers",
            "I was charged twice and still no refund",
            "the app logs me out every time",
            "주문한 지 한 시간이 넘었는데 아직 안 왔어요",
            "적립한 포인트가 사라졌어요",
            "환불은 언제 되나요? 벌써 2주째예요",
        ]
    )
    question: list[str] = Field(
        default_factory=lambda: [
            "what time do you open on Sunday?",
            "do you have oat milk?",
            "매장 주차 가능한가요?",
            "기프티콘은 어디서 쓸 수 있나요?",
        ]
    )
    praise: list[str] = Field(
        default_factory=lambda: [
            "best latte in town, thank you!",
            "the staff were so kind today",
            "커피 정말 맛있어요 또 갈게요",
            "직원분이 너무 친절하셨어요",
        ]
    )
    suggestion: list[str] = Field(
        default_factory=lambda: [
            "it would be great if you added a decaf option",
            "please bring back the winter menu",
            "앱에 다크 모드가 있으면 좋겠어요",
            "디카페인 메뉴도 추가해 주세요",
        ]
    )


class NlpSettings(Section):
    # "default": the int8 e5 encoder and its heads, the most accurate. "fast": the static token table
    # distilled from it and heads trained on that table, ~20x the posts a second for 2-5 points of
    # sentiment and most of the topic accuracy (nlp/profiles.py; MODEL_CARD.md, both profiles' figures).
    profile: Literal["default", "fast"] = "default"
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    intent: IntentSettings = Field(default_factory=IntentSettings)
    sentiment: ClassifierSettings = Field(default_factory=ClassifierSettings)
    # Posts per analyze batch. Each batch reads the near-duplicate window (up to 5,000 recent
    # analyses), claims, links and commits once, and the encoder sorts the batch's texts by length
    # before cutting them into encoder calls, so larger batches pad less: 256 against 64 analyzes
    # 1.2x the posts a second with the default encoder and ~1.9x with the fast profile's
    # (BENCHMARKS.md, Pipeline).
    batch_size: int = Field(default=256, ge=1)
    # A topic applies when its score reaches this; below it for every topic the post is "other".
    topic_threshold: float = Field(default=0.45, ge=0, le=1)
    taxonomy_file: str | None = None
    # Two posts are near-duplicates above this cosine similarity of their embeddings.
    duplicate_similarity: float = Field(default=0.92, ge=0, le=1)
    duplicate_window_hours: int = Field(default=72, ge=1)


class LinkingSettings(Section):
    # Fuzzy display-name matches at or above this score (0-100) are proposed to staff.
    fuzzy_min_score: float = Field(default=88, ge=0, le=100)
    # Links at or above this confidence are applied; lower ones wait for confirmation.
    apply_confidence: float = Field(default=0.9, ge=0, le=1)
    # An e-mail address or order number in a post is evidence a stranger can type: such links are
    # proposals for staff to confirm unless this is true (only a listed handle or id applies alone).
    apply_text_evidence: bool = False


class RoutingRuleSettings(Section):
    name: str
    when: dict[str, Any] = Field(default_factory=dict)
    then: dict[str, Any] = Field(default_factory=dict)


class SlaPolicySettings(Section):
    first_response_minutes: int = Field(ge=1)
    resolution_minutes: int = Field(ge=1)
    warn_before_minutes: int = Field(default=30, ge=0)
    business_hours_only: bool = True


class BusinessHoursSettings(Section):
    timezone: str = "UTC"
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    start: str = "09:00"
    end: str = "18:00"
    holidays: list[str] = Field(default_factory=list)  # ISO dates


class ResponderSettings(Section):
    # Nothing is posted unless this is true AND the platform's credentials are set.
    send: bool = False
    assignment: Literal["manual", "round_robin", "load_balanced"] = "load_balanced"
    # Posts whose risk reaches this are queued even when not complaints.
    actionable_risk: float = Field(default=0.3, ge=0, le=1)
    approval_risk: float = Field(default=0.45, ge=0, le=1)
    approval_followers: int = Field(default=50_000, ge=0)
    approval_words: list[str] = Field(
        default_factory=lambda: ["lawyer", "lawsuit", "sue", "press", "journalist", "변호사", "소송", "기자"]
    )
    rules: list[RoutingRuleSettings] = Field(default_factory=list)
    sla: dict[str, SlaPolicySettings] = Field(default_factory=dict)
    business_hours: BusinessHoursSettings = Field(default_factory=BusinessHoursSettings)
    senders: dict[str, Implementation] = Field(default_factory=dict)


class AlertSettings(Section):
    """Spike detection thresholds (reports.alerts.SpikeRules is built from these)."""

    window_hours: int = Field(default=6, ge=1, le=168)
    lookback_hours: int = Field(default=48, ge=1)
    baseline_weeks: int = Field(default=4, ge=1, le=52)
    min_history_hours: int = Field(default=72, ge=1)
    alpha: float = Field(default=1e-4, gt=0, lt=1)
    min_count: int = Field(default=8, ge=1)
    min_ratio: float = Field(default=3.0, ge=1)
    negative_min: int = Field(default=8, ge=1)
    negative_lift: float = Field(default=0.25, gt=0, le=1)
    merge_gap_hours: int = Field(default=6, ge=0)


class ReportSettings(Section):
    out_dir: str = "var/reports"
    feeds_dir: str = "var/feeds"
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly_time: str = "09:00"
    smtp_host: str | None = None
    smtp_port: int = 25
    # "starttls" (default): STARTTLS required, certificate verified; "tls": implicit TLS (port 465),
    # verified; "none": plain text, only for a relay on this machine or a trusted network.
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = "dangol@localhost"
    email_to: list[str] = Field(default_factory=list)
    # Only from the environment: DANGOL_REPORTS__SMTP_PASSWORD (with smtp_from as the login).
    smtp_password: SecretStr | None = None
    webhook_url: str | None = None
    # Topic feeds cover this many days (and compare with the same span before) and list this many items.
    feed_days: int = Field(default=7, ge=1, le=365)
    feed_items: int = Field(default=50, ge=1, le=1000)
    alerts: AlertSettings = Field(default_factory=AlertSettings)


class RetentionSettings(Section):
    raw_payload_days: int = Field(default=30, ge=1)
    post_text_days: int = Field(default=365, ge=1)
    embedding_days: int = Field(default=90, ge=1)
    audit_days: int = Field(default=730, ge=1)


class DashboardSettings(Section):
    session_timeout_minutes: int = Field(default=60, ge=1)
    # A login kept across browser reloads (dashboard/server.py) ends this long after it began,
    # however active; the idle timeout above applies too.
    session_max_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Failed logins per username before it is blocked, and the first block; each further block in
    # a row doubles, up to lockout_max_minutes, so a guesser cannot keep an account out for good.
    lockout_attempts: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    lockout_max_minutes: int = Field(default=120, ge=1)
    # Failed logins from one client address (any usernames) before that client is blocked.
    client_attempts: int = Field(default=20, ge=1)
    page_size: int = Field(default=25, ge=1, le=500)
    # The dashboard's address as staff's browsers reach it (behind a proxy: the public one): every
    # link in alerts, e-mails, webhook messages, feeds and reports is built on it (dangol.core.links).
    base_url: str = Field(default="http://localhost:8501", pattern=r"^https?://[^\s?#]+$")
    # The queue list and an item's status, assignee, replies and presence redraw themselves this
    # often (a Streamlit fragment, not the whole page); 0 turns the live refresh off.
    refresh_seconds: int = Field(default=15, ge=0, le=3600)
    # Someone is shown on an item ("Also here: …") while their page's last heartbeat is younger
    # than this; older presence rows are ignored and deleted. Must outlast one refresh.
    presence_stale_seconds: int = Field(default=30, ge=1, le=3600)

    @model_validator(mode="after")
    def _presence_outlasts_a_refresh(self) -> DashboardSettings:
        if self.refresh_seconds and self.presence_stale_seconds <= self.refresh_seconds:
            # Each open page beats once per refresh: a shorter timeout would hide people between beats.
            raise ValueError(
                f"presence_stale_seconds ({self.presence_stale_seconds}) must be longer than refresh_seconds "
                f"({self.refresh_seconds}); twice as long leaves room for one late refresh"
            )
        return self


class WebhookSubscription(Section):
    """`[api.webhooks.<key>]`: item events POSTed, signed, to a receiver (reports.webhooks)."""

    enabled: bool = True
    url: str = Field(pattern=r"^https?://[^\s]+$")
    # The NAME of the environment variable holding the signing secret, never the secret itself:
    # config files get copied and committed.
    secret_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")
    # Event types (dangol.core.webhooks.EVENT_TYPES); only these are enqueued for this receiver.
    events: list[str] = Field(min_length=1)

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
        return value

    def secret(self) -> str:
        """The signing secret from the environment variable `secret_env`; ConfigError when it is unset
        or a placeholder (an unsigned or guessable request must not go out)."""
        value = os.environ.get(self.secret_env, "")
        if is_placeholder(SecretStr(value)):
            raise ConfigError(f"webhook secret: set the environment variable {self.secret_env} to a long random value")
        return value


class ApiSettings(Section):
    """`dangol api`: the HTTP API (FastAPI on uvicorn), and outbound webhooks on item events."""

    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)
    # Requests per token per minute (a fixed window, counted in each API process: `--workers N` allows N times it).
    rate_limit_per_minute: int = Field(default=120, ge=1)
    # The most rows one list request returns (?limit= above it is refused).
    max_page_size: int = Field(default=100, ge=1, le=500)
    webhooks: dict[str, WebhookSubscription] = Field(default_factory=dict)
    # Each worker enqueues new item events and sends the due ones this often, at most webhook_batch per run.
    webhook_every_seconds: int = Field(default=15, ge=1)
    webhook_batch: int = Field(default=100, ge=1)
    # Seconds a receiver has to answer; a timeout counts as a failure (retried).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # A failed send waits backoff × 2^(attempts-1) (at most the max), half of it random, and is given
    # up after max_attempts (8 at the defaults: about 40 minutes of retries).
    webhook_backoff_seconds: float = Field(default=30.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    # Item events older than this are not enqueued: how far a worker that was down catches up, and
    # how much history the first subscription of a deployment receives.
    webhook_catch_up_hours: int = Field(default=24, ge=1)

    @field_validator("webhooks")
    @classmethod
    def _webhook_keys(cls, value: dict[str, WebhookSubscription]) -> dict[str, WebhookSubscription]:
        for key in value:
            if not SEGMENT_KEY.match(key):
                raise ValueError(f"webhook key {key!r}: use lower-case letters, digits and _ (e.g. crm)")
        return value


class NotificationSettings(Section):
    """Staff notifications (the dashboard inbox, e-mail, personal webhooks)."""

    # Usernames told about new spike alerts; empty: every active member whose role sees alerts.
    alert_recipients: list[str] = Field(default_factory=list)
    # How often each worker sends pending e-mail and webhook notifications.
    deliver_every_seconds: int = Field(default=30, ge=1)
    # At most this many sends per run; the rest wait for the next run.
    deliver_batch: int = Field(default=100, ge=1)
    # A delivery that failed is retried after retry_minutes × attempts, and given up after max_attempts.
    retry_minutes: int = Field(default=5, ge=1)
    max_attempts: int = Field(default=5, ge=1)


class WorkerSettings(Section):
    analyze_every_seconds: int = Field(default=30, ge=1)
    route_every_seconds: int = Field(default=30, ge=1)
    purge_every_hours: int = Field(default=24, ge=1)
    alerts_every_minutes: int = Field(default=15, ge=1)
    feeds_every_minutes: int = Field(default=60, ge=1)
    # Retrain the topic head from new staff corrections this often; 0 turns the job off.
    topics_train_every_hours: int = Field(default=168, ge=0)
    # Retrain the sentiment heads from new staff sentiment corrections this often; 0 turns it off.
    sentiment_train_every_hours: int = Field(default=168, ge=0)
    # Ask X, Mastodon and Bluesky this often whether the posts of the last `deletion_recheck_days`
    # still exist, at most `deletion_recheck_max_posts` per source and run; 0 turns the job off.
    deletion_recheck_every_hours: int = Field(default=24, ge=0)
    deletion_recheck_days: int = Field(default=7, ge=1)
    deletion_recheck_max_posts: int = Field(default=200, ge=1)
    # Recompute every customer's scores and segments this often; 0 turns the job off.
    customer_scores_every_hours: int = Field(default=24, ge=0)


SEGMENT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
Score = Annotated[float, Field(ge=0, le=1)]
Trend = Literal["improving", "worsening", "steady", "unknown"]
Tier = Literal["standard", "gold", "vip"]


class SegmentCondition(Section):
    """Conditions over a customer's scores (dangol.core.customer_scores), all of which must hold:
    `min_<score>`/`max_<score>` bounds (0..1) and flags equal to a value (a list: any of them)."""

    min_activity: Score | None = None
    max_activity: Score | None = None
    min_mood: Score | None = None
    max_mood: Score | None = None
    min_service: Score | None = None
    max_service: Score | None = None
    min_reach: Score | None = None
    max_reach: Score | None = None
    min_value: Score | None = None
    max_value: Score | None = None
    trend: Trend | list[Trend] | None = None
    tier: Tier | list[Tier] | None = None
    recovered: bool | None = None
    unresolved: bool | None = None
    new_voice: bool | None = None

    @model_validator(mode="after")
    def _bounds_in_order(self) -> SegmentCondition:
        for score in ("activity", "mood", "service", "reach", "value"):
            low, high = getattr(self, f"min_{score}"), getattr(self, f"max_{score}")
            if low is not None and high is not None and low > high:
                raise ValueError(f"min_{score} ({low}) is above max_{score} ({high}): no customer can match")
        return self

    def conditions(self) -> dict[str, Any]:
        """The conditions set, by key (those left out are not tested)."""
        return {key: value for key, value in self.model_dump(exclude={"name", "any"}).items() if value is not None}


class SegmentSettings(SegmentCondition):
    """A customer segment: its name, conditions that must all hold, and optionally `any`, condition
    tables of which at least one must hold too."""

    name: str = Field(min_length=1)
    any: list[SegmentCondition] = Field(default_factory=list)


class Settings(BaseSettings):
    """Everything Dangol reads from config.toml and the environment."""

    model_config = SettingsConfigDict(
        env_prefix="DANGOL_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    brand: BrandSettings = Field(default_factory=BrandSettings)
    brands: dict[str, BrandEntry] = Field(default_factory=dict)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    topics: dict[str, TopicSettings] = Field(default_factory=dict)
    linking: LinkingSettings = Field(default_factory=LinkingSettings)
    responder: ResponderSettings = Field(default_factory=ResponderSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    segments: dict[str, SegmentSettings] = Field(default_factory=dict)
    # The catalog with the `topics` and `nlp.taxonomy_file` it was built from: a copy or an edit
    # of those (tests, `model_copy(update=...)`) must not see a catalog of other topics.
    _topic_catalog: tuple[dict[str, TopicSettings], str | None, TopicCatalog] | None = PrivateAttr(default=None)

    @property
    def topic_catalog(self) -> TopicCatalog:
        """The configured topics, with the taxonomy file read at the first ask and not again."""
        cached = self._topic_catalog
        if cached is None or cached[0] != self.topics or cached[1] != self.nlp.taxonomy_file:
            catalog = TopicCatalog.from_settings(self)
            self._topic_catalog = cached = (dict(self.topics), self.nlp.taxonomy_file, catalog)
        return cached[2]

    def __getstate__(self) -> dict[Any, Any]:
        # Pickled (a worker's settings handed to its training child, `dangol.child_process`) without
        # the cached catalog, which holds a read-only mapping pickle refuses: it is rebuilt on use.
        state = super().__getstate__()
        state["__pydantic_private__"] = {**(state.get("__pydantic_private__") or {}), "_topic_catalog": None}
        return state

    @property
    def brand_catalog(self) -> BrandCatalog:
        """The own brand and its competitors; without [brands], the one brand of [brand]."""
        own_accounts = tuple(self.brand.own_accounts())
        if not self.brands:
            own = Brand(DEFAULT_OWN_KEY, self.brand.name, True, own_accounts, (self.brand.name,))
            return BrandCatalog((own,))
        brands = []
        for key, entry in self.brands.items():
            accounts = tuple(BrandSettings(own_handles=entry.handles).own_accounts()) if entry.handles else ()
            if entry.own and not accounts:
                accounts = own_accounts
            name = entry.name or (self.brand.name if entry.own else key)
            brands.append(Brand(key, name, entry.own, accounts, tuple(entry.keywords)))
        brands.sort(key=lambda b: not b.own)
        return BrandCatalog(tuple(brands))

    @model_validator(mode="after")
    def _brands_consistent(self) -> Settings:
        if self.brands:
            own = [key for key, entry in self.brands.items() if entry.own]
            if len(own) != 1:
                raise ValueError(f"[brands]: exactly one brand needs own = true, found {len(own)} ({', '.join(own)})")
            for key in self.brands:
                if not SEGMENT_KEY.match(key):
                    raise ValueError(f"brand key {key!r}: use lower-case letters, digits and _ (e.g. rival)")
        keys = set(self.brands) or {DEFAULT_OWN_KEY}
        for name, source in self.sources.items():
            if source.brand is not None and source.brand not in keys:
                raise ValueError(
                    f"sources.{name}.brand = {source.brand!r}; configured brands: {', '.join(sorted(keys))}"
                )
        return self

    @field_validator("segments")
    @classmethod
    def _segment_keys(cls, value: dict[str, SegmentSettings]) -> dict[str, SegmentSettings]:
        for key in value:
            if not SEGMENT_KEY.match(key):
                raise ValueError(f"segment key {key!r}: use lower-case letters, digits and _ (e.g. at_risk)")
        return value

    @model_validator(mode="after")
    def _rules_name_configured_segments(self) -> Settings:
        # A misspelt segment in a rule would never match, silently: refused when the config loads.
        for rule in self.responder.rules:
            unknown = unknown_segments(rule.when.get("segment"), self.segments)
            if unknown:
                configured = ", ".join(self.segments) or "(none)"
                raise ValueError(
                    f"responder.rules[{rule.name!r}].when.segment names {unknown}; configured segments: {configured}"
                )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML config file, with errors that say where."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def find_secrets_in_file(data: Any, prefix: str = "") -> list[str]:
    """Dotted paths of keys in the file that look like secrets (they belong in the environment)."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, str) and str(key).lower().endswith(SECRET_KEY_SUFFIXES) and value:
                found.append(path)
            found.extend(find_secrets_in_file(value, path))
    return found


def unknown_segments(wanted: Any, segments: Iterable[str]) -> list[str]:
    """The segment keys in a rule's `when.segment` (a key or a list) that are not configured."""
    if wanted is None:
        return []
    keys = set(segments)
    return [str(w) for w in (wanted if isinstance(wanted, list | tuple) else [wanted]) if str(w) not in keys]


def env_name(dotted: str) -> str:
    """The environment variable that sets a dotted config key."""
    return "DANGOL_" + dotted.replace(".", "__").upper()


def is_placeholder(secret: object) -> bool:
    """True for a secret like 'changeme' that was never replaced by a real one (False for anything
    that is not a secret)."""
    if not isinstance(secret, SecretStr):
        return False
    value = secret.get_secret_value().strip().lower()
    return value in PLACEHOLDER_SECRETS or (value.startswith("<") and value.endswith(">"))


def format_validation_error(exc: ValidationError) -> list[str]:
    """One readable line per pydantic problem: `sources.acme.every_minutes: …`."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown key")
        else:
            problems.append(f"{where}: {err['msg']}")
    return problems


def load_settings(path: Path | str | None = DEFAULT_CONFIG, *, overrides: dict[str, Any] | None = None) -> Settings:
    """Load settings from a TOML file (or none) and the environment, or raise ConfigError.

    The file is optional only when `path` is None; a named file that is missing is an error.
    """
    data: dict[str, Any] = {}
    if path is not None:
        data = read_config_file(Path(path))
    secrets = find_secrets_in_file(data)
    if secrets:
        raise ConfigError(
            "secrets must come from the environment, not the config file",
            [f"{s}: secret in config file; remove it and set {env_name(s)} instead" for s in secrets],
        )
    if overrides:
        data = deep_merge(data, overrides)
    data = _moved_keys(data)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = format_validation_error(exc)
        raise ConfigError(f"invalid configuration: {problems[0]}", problems) from exc
    database_url = os.environ.get("DANGOL_DATABASE_URL")
    if database_url:
        settings.database.url = database_url
    return settings


def _moved_keys(data: dict[str, Any]) -> dict[str, Any]:
    """Keys an older config.toml may still have at their former place, moved to where they live
    now with a warning, so an upgrade does not refuse a config that used to be valid."""
    reports = data.get("reports")
    if isinstance(reports, dict) and "base_url" in reports:
        dashboard = dict(data.get("dashboard") or {})
        reports = dict(reports)
        old = reports.pop("base_url")
        if "base_url" in dashboard:
            if dashboard["base_url"] != old:
                raise ConfigError(
                    "reports.base_url moved to dashboard.base_url; the config sets both, differently: keep "
                    "dashboard.base_url only"
                )
        else:
            dashboard["base_url"] = old
        log.warning("config: reports.base_url is now dashboard.base_url; read it from there, please move it")
        data = {**data, "reports": reports, "dashboard": dashboard}
    return data


def named_sources(sources: Mapping[str, SourceSettings], names: Iterable[str]) -> list[str]:
    """`names`, when each is a configured source (a key of `sources`, the `[sources.*]` settings); else
    ConfigError naming the first unknown one and listing the configured ones."""
    names = list(names)
    unknown = [n for n in names if n not in sources]
    if unknown:
        raise ConfigError(f"unknown source {unknown[0]!r}; configured: {', '.join(sources) or '(none)'}")
    return names


# Primary topic of posts that fit no topic; no topic may take this key.
OTHER_TOPIC = "other"
# A topic key names files (feeds/<key>.atom), URLs and stored labels: letters, digits, "_" only.
TOPIC_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def topic_key_problem(key: str, where: str) -> str | None:
    """Why `key` cannot be a topic key, or None."""
    if key == OTHER_TOPIC:
        return f"{where}: topic key {OTHER_TOPIC!r} is reserved for posts that fit no topic; rename it"
    if not TOPIC_KEY.match(key):
        return f"{where}: invalid topic key {key!r}: use 2-40 lowercase letters, digits or '_', starting with a letter"
    return None


def parse_topic_tables(data: dict[str, Any], where: str) -> dict[str, TopicSettings]:
    """Validate a taxonomy file's parsed TOML (`{"topics": {key: table}}`), or raise ConfigError."""
    unknown = sorted(set(data) - {"topics"})
    if unknown:
        raise ConfigError(f"{where}: unknown tables {unknown}; a taxonomy file holds only [topics.<key>] tables")
    tables = data.get("topics", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{where}: `topics` must be tables like [topics.delivery], not {type(tables).__name__}")
    topics: dict[str, TopicSettings] = {}
    problems: list[str] = []
    for key, table in tables.items():
        bad_key = topic_key_problem(key, f"{where}: topics.{key}")
        if bad_key:
            problems.append(bad_key)
            continue
        if not isinstance(table, dict):
            problems.append(f"{where}: topics.{key}: must be a table with name, description, examples, team")
            continue
        try:
            topics[key] = TopicSettings(**table)
        except ValidationError as exc:
            problems.extend(f"{where}: topics.{key}.{p}" for p in format_validation_error(exc))
    if problems:
        raise ConfigError(problems[0], problems)
    if OTHER_TOPIC in topics:
        raise ConfigError(f"{where}: topic key {OTHER_TOPIC!r} is reserved for posts that fit no topic; rename it")
    return topics


def read_topic_file(path: Path | str) -> dict[str, TopicSettings]:
    """Read a taxonomy TOML file of `[topics.<key>]` tables, with errors that say what is wrong."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"taxonomy file not found: {path}; give a TOML file with [topics.<key>] tables") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_topic_tables(data, str(path))


@dataclass(frozen=True)
class TopicCatalog:
    """The complaint topics this deployment is configured with: config.toml `[topics]` plus the
    tables of `nlp.taxonomy_file`, validated, in order.

    Read once per run (`Settings.topic_catalog`) and passed to whatever needs the topics. It is
    the seed: topics edited on the dashboard's Admin page (stored in the database) are laid over
    it by `storage.topics.effective_topics`.
    """

    topics: Mapping[str, TopicSettings]

    def __post_init__(self) -> None:
        object.__setattr__(self, "topics", MappingProxyType(dict(self.topics)))

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicCatalog:
        """The topics of `settings.topics` and of its `nlp.taxonomy_file` (read here), or ConfigError."""
        bad = [p for key in settings.topics if (p := topic_key_problem(key, f"topics.{key}"))]
        if bad:
            raise ConfigError(bad[0], bad)
        topics = dict(settings.topics)
        if settings.nlp.taxonomy_file:
            where = settings.nlp.taxonomy_file
            extra = read_topic_file(where)
            clash = sorted(set(topics) & set(extra))
            if clash:
                raise ConfigError(
                    f"{where}: topic keys {clash} are already defined in config.toml [topics]; rename them"
                )
            topics.update(extra)
        return cls(topics)

    @classmethod
    def from_file(cls, path: Path | str) -> TopicCatalog:
        """The topics of one taxonomy file alone (evaluation against a labelled set), or ConfigError."""
        return cls(read_topic_file(path))

    @property
    def keys(self) -> list[str]:
        """Topic keys in order."""
        return list(self.topics)

    @property
    def teams(self) -> set[str]:
        """The teams the topics name."""
        return {topic.team for topic in self.topics.values()}


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, tables merged key by key."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
