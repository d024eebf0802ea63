"""Action endpoints: the dashboard's actions on items, links and customers, through the same
`responder` functions, so each is permission-checked and audited exactly as from the dashboard."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from dangol.api.context import Caller, Ctx, RowId, acting
from dangol.api.reads import item_json, row
from dangol.core.errors import ActionError
from responder import assignment, labels, queue
from responder.approval import submit_reply
from responder.customers import decide_link, import_customer
from responder.sending import send_reply
from storage.customers import TIERS
from storage.topics import topic_names

router = APIRouter(tags=["act"])


@router.post("/items/{item_id}/claim")
def claim(item_id: RowId, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """Take a free item (`queue.claim`)."""
    with acting(ctx, staff_id, "queue.claim") as (session, actor):
        return item_json(session, assignment.claim(item_id, actor=actor, session=session))


@router.post("/items/{item_id}/release")
def release(item_id: RowId, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """Give back an item you hold (`queue.claim`)."""
    with acting(ctx, staff_id, "queue.claim") as (session, actor):
        return item_json(session, assignment.release(item_id, actor=actor, session=session))


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, description="The reply as it will be posted")


@router.post("/items/{item_id}/reply")
def reply(item_id: RowId, body: ReplyIn, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """Reply to the item's post (`queue.reply`): sent at once, or held for a reviewer when the
    approval rules ask for one (the reply's status says which); a dry run unless `[responder] send`."""
    with acting(ctx, staff_id, "queue.reply") as (session, actor):
        sent = submit_reply(item_id, body.text.strip(), actor=actor, session=session, settings=ctx.settings)
        return row(sent)


@router.post("/replies/{reply_id}/send")
def send_again(reply_id: RowId, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """Send again a reply the platform did not take (`queue.reply`; its status `failed`, or
    `sending` when the platform never answered): the platform is asked for an earlier copy first,
    so the customer never gets it twice. A reply already sent is returned as it is."""
    with acting(ctx, staff_id, "queue.reply") as (session, actor):
        return row(send_reply(reply_id, actor=actor, session=session, settings=ctx.settings))


class CloseIn(BaseModel):
    spam: bool = Field(False, description="Close as spam instead of resolved")


@router.post("/items/{item_id}/close")
def close(
    item_id: RowId,
    ctx: Ctx,
    staff_id: Caller,
    body: CloseIn | None = None,
) -> dict[str, Any]:
    """Close the item as resolved, or as spam (`queue.close`)."""
    with acting(ctx, staff_id, "queue.close") as (session, actor):
        act = queue.mark_spam if body is not None and body.spam else queue.close
        return item_json(session, act(item_id, actor=actor, session=session))


class LabelsIn(BaseModel):
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    topic: str | None = Field(None, description="A topic key (GET /api/v1/topics) or `other`")


@router.post("/items/{item_id}/labels")
def correct_labels(item_id: RowId, body: LabelsIn, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """Correct the sentiment and/or topic of the item's post (`queue.label`); kept for retraining."""
    with acting(ctx, staff_id, "queue.label") as (session, actor):
        item = queue.get_item(item_id, session=session)
        if body.topic is not None:
            known = [*topic_names(session=session, catalog=ctx.settings.topic_catalog), "other"]
            if body.topic not in known:
                raise ActionError(f"unknown topic {body.topic!r}; topics: {', '.join(known)}")
        labels.correct_labels(
            session=session, actor=actor, post_id=item.post_id, sentiment=body.sentiment, topic=body.topic
        )
        session.flush()
        session.refresh(item)
        return item_json(session, item)


class DecisionIn(BaseModel):
    decision: Literal["confirm", "reject"]


@router.post("/links/{link_id}/decision")
def link_decision(link_id: RowId, body: DecisionIn, ctx: Ctx, staff_id: Caller) -> dict[str, Any]:
    """Confirm or reject an identity link the linker proposed (`customer.link`)."""
    with acting(ctx, staff_id, "customer.link") as (session, actor):
        link = decide_link(session=session, actor=actor, link_id=link_id, confirm=body.decision == "confirm")
        return row(link)


class CustomerIn(BaseModel):
    name: str = Field(min_length=1)
    email: str | None = None
    phone: str | None = None
    tier: str = Field("standard", description=" | ".join(TIERS))
    handles: dict[str, str] = Field(
        default_factory=dict, description="Platform → handle: x, reddit, mastodon, bluesky, naver"
    )
    order_numbers: list[str] = Field(default_factory=list)


@router.put("/customers/by-external-id/{external_id}")
def upsert_customer(
    external_id: str,
    body: CustomerIn,
    response: Response,
    ctx: Ctx,
    staff_id: Caller,
) -> dict[str, Any]:
    """Create or update the customer your CRM knows as `external_id` (`customer.import`). Idempotent:
    the same body again answers `"outcome": "unchanged"` and changes nothing. 201 when created."""
    with acting(ctx, staff_id, "customer.import") as (session, actor):
        customer, outcome = import_customer(
            session=session, actor=actor, external_ref=external_id, name=body.name, email=body.email,
            phone=body.phone, tier=body.tier, handles=body.handles, order_numbers=body.order_numbers,
        )  # fmt: skip
        response.status_code = 201 if outcome == "created" else 200
        return {"outcome": outcome, "customer": row(customer)}
