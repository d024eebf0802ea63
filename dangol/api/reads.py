"""Read endpoints: the queue, items, customers, topics, alerts, the weekly report and topic feeds.

Each checks the same permission the dashboard's page needs (`queue.view`, `customer.view`, …) and
reads through the same `storage` queries."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from sqlmodel import Session, SQLModel

from dangol.api.context import ApiContext, Caller, Ctx, RowId, acting
from dangol.core.errors import ActionError, NotFound
from dangol.core.permissions import ACTIONS, allowed
from dangol.core.types import MAX_ROW_ID
from reports.feeds import atom_document, build_topic_feed, json_feed
from reports.weekly import build_weekly
from responder.queue import get_item, list_queue
from storage import alerts, customers, replies, staff, topics
from storage.models import Post, QueueItem
from storage.queue import SLA_STATES, SORTS, QueueFilters, QueueRow, notes_on_item, queue_rows

router = APIRouter(tags=["read"])


def row(model: SQLModel, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """A table row as JSON-able data."""
    return jsonable_encoder(model.model_dump(exclude=exclude))


LINE_FIELDS = tuple(field.name for field in dataclasses.fields(QueueRow))


def line_json(line: QueueRow) -> dict[str, Any]:
    """A queue line as JSON-able data, equal to jsonable_encoder(asdict(line)) (times in ISO 8601)
    but without their generic walk over every value: a page's 25 lines took a quarter of its time."""
    out = {name: getattr(line, name) for name in LINE_FIELDS}
    out["tags"] = list(line.tags)
    for name in ("due_at", "created_at"):
        if out[name] is not None:
            out[name] = out[name].isoformat()
    return out


def page_limit(ctx: ApiContext, limit: int) -> int:
    if not 1 <= limit <= ctx.settings.api.max_page_size:
        raise ActionError(f"limit must be between 1 and {ctx.settings.api.max_page_size}")
    return limit


@router.get("/me")
def me(ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """Who the token acts as, with the role's permissions now."""
    with acting(ctx, staff_id, "api.token") as (_, actor):
        return {
            "id": actor.id,
            "username": actor.username,
            "role": actor.role,
            "permissions": sorted(a for a in ACTIONS if allowed(actor, a)),
        }


@router.get("/queue")
def queue(
    ctx: Ctx,
    staff_id: Caller,
    status: str | None = Query(None, description="Comma-separated statuses, e.g. new,assigned"),
    team: str | None = None,
    topic: str | None = None,
    assignee: str | None = Query(None, description="A username, `me`, or `none` for unassigned items"),
    priority: int | None = Query(None, ge=1, le=5, description="1 (most urgent) to 5"),
    platform: str | None = None,
    sentiment: str | None = None,
    language: str | None = None,
    tag: str | None = None,
    customer_id: int | None = Query(None, ge=1, le=MAX_ROW_ID),
    segment: str | None = None,
    sla: str | None = Query(None, description=f"The SLA clock now: {' | '.join(SLA_STATES)}"),
    q: str | None = Query(None, description="Words in the post"),
    sort: str = Query("priority", description=" | ".join(SORTS)),
    page: int = Query(1, ge=1, le=MAX_ROW_ID),
    limit: int = 25,
) -> dict[str, Any]:
    """The queue, filtered as on the dashboard's Queue page (`queue.view`), a page at a time."""
    with acting(ctx, staff_id, "queue.view") as (session, actor):
        assignee_id, unassigned = None, False
        if assignee == "none":
            unassigned = True
        elif assignee == "me":
            assignee_id = actor.id
        elif assignee:
            found = staff.staff_by_username(session=session, username=assignee.strip().lower())
            if found is None:
                raise ActionError(f"no staff member named {assignee!r}")
            assignee_id = found.id
        filters = QueueFilters(
            status=[s.strip() for s in status.split(",") if s.strip()] if status else None,
            team=team, topic=topic, assignee_id=assignee_id, unassigned=unassigned, priority=priority,
            platform=platform, sentiment=sentiment, language=language, tag=tag, customer_id=customer_id,
            segment=segment, sla=sla, text=q,
        )  # fmt: skip
        found_page = list_queue(
            filters, session=session, sort=sort, page=page, page_size=page_limit(ctx, limit), now=ctx.clock()
        )
        lines = queue_rows(session=session, items=found_page.items)
        return {
            "items": [line_json(line) for line in lines],
            "total": found_page.total,
            "total_is_exact": found_page.total_is_exact,
            "page": found_page.page,
            "limit": found_page.page_size,
            "next_page": found_page.page + 1 if found_page.next is not None else None,
        }


def item_json(session: Session, item: QueueItem) -> dict[str, Any]:
    """A queue item with its post, replies and notes, as the Item page shows it."""
    post = session.get(Post, item.post_id)
    line = queue_rows(session=session, items=[item])
    return {
        **row(item),
        "line": line_json(line[0]) if line else None,
        "post": row(post, exclude={"raw"}) if post else None,
        "replies": [row(r) for r in replies.replies_to_item(item.id, session=session)],
        "notes": [row(n) for n in notes_on_item(item.id, session=session)],
    }


@router.get("/items/{item_id}")
def item(item_id: RowId, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """One queue item with its post, replies and internal notes (`queue.view`)."""
    with acting(ctx, staff_id, "queue.view") as (session, _):
        return item_json(session, get_item(item_id, session=session))


@router.get("/customers")
def search_customers(
    ctx: Ctx,
    staff_id: Caller,
    q: str = Query("", description="A name's start, an e-mail, an external id or a handle"),
    limit: int = 25,
) -> dict[str, Any]:
    """Customers matching `q`, or the newest ones (`customer.view`)."""
    with acting(ctx, staff_id, "customer.view") as (session, _):
        found = customers.search_customers(session=session, text=q, limit=page_limit(ctx, limit))
        return {"items": [row(c) for c in found]}


@router.get("/customers/{customer_id}")
def customer(customer_id: RowId, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """A customer's 360: handles, orders, identity links, recent posts and queue items (`customer.view`)."""
    with acting(ctx, staff_id, "customer.view") as (session, _):
        view = customers.customer_view(session=session, customer_id=customer_id)
        if view is None:
            raise NotFound(f"no customer with id {customer_id}")
        return {
            "customer": row(view.customer),
            "handles": [{"platform": h.platform, "handle": h.handle} for h in view.handles],
            "orders": view.orders,
            "links": [{**row(link), "author": row(author, exclude={"bio"})} for link, author in view.links],
            "posts": [
                {
                    **row(post, exclude={"raw"}),
                    "sentiment": a.sentiment if a else None,
                    "topic": a.primary_topic if a else None,
                }
                for post, a in view.posts
            ],  # fmt: skip
            "items": [row(i) for i in view.items],
            "merged_into": view.merged_into,
        }


@router.get("/topics")
def list_topics(ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """The complaint topics in force, from config.toml and the Admin page (`topic.view`)."""
    with acting(ctx, staff_id, "topic.view") as (session, _):
        entries = topics.list_topics(session=session, catalog=ctx.settings.topic_catalog)
        return {
            "items": [
                {"key": e.key, **e.topic.model_dump(), "enabled": e.enabled, "source": e.source,
                 "updated_by": e.updated_by, "updated_at": e.updated_at}
                for e in entries
            ]
        }  # fmt: skip


@router.get("/alerts")
def list_alerts(ctx: Ctx, staff_id: Caller, limit: int = 20) -> dict[str, Any]:
    """The newest spike alerts (`alert.view`)."""
    with acting(ctx, staff_id, "alert.view") as (session, _):
        return {"items": [row(a) for a in alerts.recent_alerts(session=session, limit=page_limit(ctx, limit))]}


@router.get("/reports/{week}")
def weekly_report(week: str, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """The weekly report's figures for `week` (2026-W47, or `latest`: the last complete week) (`report.view`)."""
    with acting(ctx, staff_id, "report.view") as (session, _):
        report = build_weekly(
            session=session, settings=ctx.settings, week=None if week == "latest" else week, now=ctx.clock()
        )
        return {**jsonable_encoder(dataclasses.asdict(report)), "url": report.url}


def _feed(topic: str, kind: str, request: Request, ctx: ApiContext, staff_id: int) -> Response:
    with acting(ctx, staff_id, "topic.view") as (session, _):
        # The window ends at the minute, so fetches within one minute of unchanged data match.
        now = ctx.clock().replace(second=0, microsecond=0)
        feed = build_topic_feed(session=session, settings=ctx.settings, key=topic, now=now)
    if kind == "atom":
        body, media = atom_document(feed, ctx.settings), "application/atom+xml"
    else:
        data = json_feed(feed, ctx.settings)
        body, media = json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/feed+json"
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


def etag_matches(header: str | None, etag: str) -> bool:
    """True when If-None-Match names `etag` (weakly compared, as RFC 9110 asks for GET) or is `*`."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@router.get("/feeds/{topic}.atom", response_class=Response)
def atom_feed(topic: str, request: Request, ctx: Ctx, staff_id: Caller) -> Response:
    """A topic's complaint feed as Atom, with an ETag: send it back in If-None-Match for a 304 (`topic.view`)."""
    return _feed(topic, "atom", request, ctx, staff_id)


@router.get("/feeds/{topic}.json", response_class=Response)
def json_topic_feed(topic: str, request: Request, ctx: Ctx, staff_id: Caller) -> Response:
    """A topic's complaint feed as JSON Feed 1.1, with an ETag (`topic.view`)."""
    return _feed(topic, "json", request, ctx, staff_id)
