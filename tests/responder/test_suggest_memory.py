"""Suggested replies (templates, similar past replies, tone; never invented facts) and customer memory."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from responder.memory import customer_history, item_context
from responder.queue import add_note, route_new
from responder.suggest import _FACT, find_order, suggest
from storage.models import IdentityLink, QueueItem, Reply
from tests.responder.conftest import NOW


def _only_item(session, settings):
    settings.responder.assignment = "manual"
    route_new(session=session, settings=settings, now=NOW)
    return session.exec(select(QueueItem).order_by(QueueItem.id.desc())).first()


def _sent_reply(session, post, text: str, *, at=NOW) -> Reply:
    item = session.exec(select(QueueItem).where(QueueItem.post_id == post.id)).one()
    reply = Reply(
        queue_item_id=item.id,
        post_id=post.id,
        text=text,
        status="sent",
        idempotency_key=f"k{post.id}",
        sent_at=at,
        created_at=at,
    )
    session.add(reply)
    session.flush()
    return reply


def test_order_numbers_are_found_only_where_the_customer_wrote_them():
    assert find_order("where is order #A-10234??") == "A-10234"
    assert find_order("주문번호 20261116 배송이 안 와요") == "20261116"
    assert find_order("I waited 3 hours for my coffee") is None


def test_complaint_template_greets_by_the_public_name_never_the_crm_one(session, settings, seed_post, make_customer):
    kim = make_customer("Kim Minji")
    seed_post("my order #A-10234 never arrived", handle="latte lover", customer=kim, primary_topic="delivery")
    first = suggest(_only_item(session, settings).id, session=session)[0]
    assert first.source == "template:delivery:en"
    assert first.text.startswith("Hi Latte,") and "sorry" in first.text and "A-10234" in first.text
    assert "Kim" not in first.text and "Minji" not in first.text
    assert "order" in first.explanation


def test_a_retweet_of_someones_order_is_not_answered_as_the_retweeters_order(session, settings, seed_post):
    seed_post("RT @hannah: my order #A-10234 never arrived", primary_topic="delivery", post={"is_retweet": True})
    for suggestion in suggest(_only_item(session, settings).id, session=session):
        assert "A-10234" not in suggestion.text, suggestion
    assert "order number" in suggest(_only_item(session, settings).id, session=session)[0].text  # it asks instead


def test_a_display_name_that_is_no_name_gives_no_greeting_name(session, settings, seed_post):
    from responder.suggest import public_name

    for bad in ("<img src=x onerror=alert(1)>", "<img", "@someone", "https://x.example", "🙂🙂", "x" * 40, "_x_"):
        assert public_name(bad) is None, bad
    assert public_name(" Grace  Park ") == "Grace Park" and public_name("한소희") == "한소희"
    assert public_name("O'Neil-Smith") == "O'Neil-Smith"
    # Initials keep their full stop, as people write them.
    assert public_name("Tom R.") == "Tom R." and public_name("J. Park") == "J. Park"
    assert public_name("Dr. Grace Park") == "Dr. Grace Park"
    for bad in (".", "Tom..", "Tom. .R"):
        assert public_name(bad) is None, bad
    seed_post("my parcel never arrived", handle="<img", primary_topic="delivery")
    first = suggest(_only_item(session, settings).id, session=session)[0]
    assert "<" not in first.text and "img" not in first.text.lower()


def test_a_reply_greets_by_the_first_name_but_never_by_an_initial_alone() -> None:
    from responder.suggest import greeting_name

    assert greeting_name("Tom R.", korean=False) == "Tom"
    assert greeting_name("Dr. Grace Park", korean=False) == "Dr. Grace Park"
    assert greeting_name("J. Park", korean=False) == "J. Park"
    assert greeting_name("한소희", korean=True) == "한소희"
    assert greeting_name(None, korean=False) is None


def test_suggestions_invent_no_order_numbers_dates_or_refunds(session, settings, seed_post):
    seed_post("my parcel never arrived", primary_topic="delivery")
    for suggestion in suggest(_only_item(session, settings).id, session=session):
        assert _FACT.findall(suggestion.text) == [], suggestion
        assert not re.search(r"refund|환불", suggestion.text, re.I)
        assert "order number" in suggestion.text  # it asks instead


def test_similar_past_reply_is_reused_without_the_other_customers_facts(session, settings, seed_post):
    old = seed_post("the parcel is late", handle="lee", embedding=[1.0, 0.0, 0.1])
    route_new(session=session, settings=settings, now=NOW)
    past = _sent_reply(
        session, old, "Hi Lee, sorry about the wait! Your order #B-55555 was refunded on Nov 3. "
        "We've asked the courier to call you back."
    )  # fmt: skip
    seed_post("my parcel is late too", embedding=[0.9, 0.05, 0.1])
    item = _only_item(session, settings)
    similar = [s for s in suggest(item.id, session=session) if s.source.startswith("similar:")]
    assert [s.source for s in similar] == [f"similar:{past.id}"]
    text = similar[0].text
    assert text.startswith("Hi User2, sorry") and "Lee" not in text
    assert "courier" in text and "B-55555" not in text and "refund" not in text and "Nov 3" not in text
    assert "1 sentence(s) with facts not in this post left out" in similar[0].explanation


def test_a_reply_in_another_language_is_never_suggested_however_close_the_posts(session, settings, seed_post):
    old = seed_post("my parcel is late", handle="lee", embedding=[1.0, 0.0, 0.1])
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(session, old, "Hi Lee, sorry about the wait! We've asked the courier to call you back.")
    # The multilingual encoder puts the Korean complaint right beside the English one.
    seed_post("택배가 아직 안 왔어요", handle="minji", language="ko", embedding=[1.0, 0.0, 0.1])
    item = _only_item(session, settings)
    suggestions = suggest(item.id, session=session)
    assert [s.source for s in suggestions if s.source.startswith("similar:")] == []
    assert all(s.source.endswith(":ko") for s in suggestions) and "courier" not in str(suggestions)
    # A Korean reply to a Korean post is offered as before.
    korean = seed_post("배송이 늦어요", handle="jiwoo", language="ko", embedding=[1.0, 0.0, 0.1])
    route_new(session=session, settings=settings, now=NOW)
    given = _sent_reply(session, korean, "지우님, 기다리게 해서 죄송합니다. 택배사에 바로 확인을 요청했습니다.")
    assert [s.source for s in suggest(item.id, session=session) if s.source.startswith("similar:")] == [
        f"similar:{given.id}"
    ]


def test_a_past_reply_never_carries_another_customers_name(session, settings, seed_post, make_customer):
    grace = make_customer("Grace Park")
    old = seed_post("the parcel is late", handle="gp_88", customer=grace, embedding=[1.0, 0.0, 0.1])
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(session, old, "Hi Grace, sorry about the wait! We've asked the courier to call you back, Grace.")
    seed_post("my parcel is late too", handle="ann", embedding=[0.9, 0.05, 0.1])
    item = _only_item(session, settings)
    texts = [s.text for s in suggest(item.id, session=session) if s.source.startswith("similar:")]
    assert texts and all("Grace" not in t and "Park" not in t for t in texts), texts
    assert texts[0].startswith("Hi Ann, sorry")


def test_a_past_reply_never_carries_another_customers_email_address(session, settings, seed_post, make_customer):
    grace = make_customer("Grace Park")
    old = seed_post("my stamps are gone", handle="gp_88", customer=grace, embedding=[1.0, 0.0, 0.1])
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(
        session, old, "Sorry about that! We found the account grace.park@example.com. We'll restore them today."
    )
    seed_post("my stamps vanished too", handle="ann", embedding=[0.9, 0.05, 0.1])
    texts = [
        s.text for s in suggest(_only_item(session, settings).id, session=session) if s.source.startswith("similar:")
    ]
    assert texts and all("@example.com" not in t and "park" not in t.lower() for t in texts), texts
    assert "restore them today" in texts[0]


def test_a_follow_up_thanks_for_patience_since_an_earlier_contact_never_this_threads_own(session, settings, seed_post):
    earlier = seed_post("my parcel is late", handle="lee", primary_topic="delivery")
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(session, earlier, "Hi Lee, sorry about the wait!", at=NOW - timedelta(days=5))
    now = seed_post("still no parcel", handle="lee", primary_topic="delivery")
    item = _only_item(session, settings)
    assert item.post_id == now.id
    since = f"since we spoke on {(NOW - timedelta(days=5)).date().isoformat()}"
    assert since in suggest(item.id, session=session)[0].text
    _sent_reply(session, now, "Hi Lee, we're on it.")  # a reply on this very item, today
    assert since in suggest(item.id, session=session)[0].text  # still the earlier contact's date
    # Someone we answered only on this thread is not thanked for bearing with us "again".
    alone = seed_post("my cup leaked", handle="ann", primary_topic="delivery")
    first = _only_item(session, settings)
    _sent_reply(session, alone, "Hi Ann, sorry about that.")
    assert "spoke on" not in suggest(first.id, session=session)[0].text


def test_korean_billing_question_gets_a_korean_template(session, settings, seed_post):
    seed_post(
        "결제가 두 번 됐나요?",
        language="ko",
        primary_topic="billing",
        is_complaint=False,
        is_question=True,
        sentiment="neutral",
    )
    suggestions = suggest(_only_item(session, settings).id, session=session)
    assert suggestions[0].source == "template:billing:ko" and "문의" in suggestions[0].text
    assert 2 <= len(suggestions) <= 3


def test_praise_is_answered_with_thanks(session, settings, seed_post):
    # Praise is queued only when something else makes it so, here its reach (risk).
    seed_post("best latte in town!", is_complaint=False, sentiment="positive", intent="praise", risk=0.9)
    suggestions = suggest(_only_item(session, settings).id, session=session)
    assert all("Thank you" in s.text for s in suggestions)
    # Delivery has no praise template: the default's, named so; its short reply would be its first
    # sentence alone, so there is none.
    assert [s.source for s in suggestions] == ["template:default:en"]


def test_every_suggestion_fits_the_platform(session, settings, seed_post):
    old = seed_post("late", handle="lee", platform="bluesky", embedding=[1.0, 0.0])
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(session, old, "We are very sorry about this. " * 30)
    seed_post("late again", platform="bluesky", embedding=[1.0, 0.0])
    for suggestion in suggest(_only_item(session, settings).id, session=session):
        assert len(suggestion.text) <= 300


def test_previous_contact_date_comes_from_our_last_reply(session, settings, seed_post, make_customer):
    kim = make_customer("Kim Minji")
    earlier = seed_post("cold coffee", customer=kim, handle="kim", primary_topic="quality")
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(session, earlier, "Sorry!", at=NOW - timedelta(days=3))
    seed_post("cold again", customer=kim, handle="kim", primary_topic="quality", cluster_key="other")
    item = _only_item(session, settings)
    assert (NOW - timedelta(days=3)).date().isoformat() in suggest(item.id, session=session)[0].text


def test_customer_history_spans_platforms_through_applied_links_only(session, settings, seed_post, make_customer):
    kim = make_customer("Kim Minji")
    seed_post("late on x", customer=kim, handle="kim", platform="x", sentiment="negative")
    seed_post(
        "fixed, thanks",
        customer=kim,
        handle="kim_r",
        platform="reddit",
        sentiment="positive",
        post={"created_at": NOW + timedelta(days=1)},
    )
    maybe = seed_post("not sure it's her", handle="kim_m", platform="mastodon")
    session.add(
        IdentityLink(
            author_id=maybe.author_id, customer_id=kim.id, method="fuzzy_name", confidence=0.7, status="proposed"
        )
    )
    route_new(session=session, settings=settings, now=NOW)
    history = customer_history(kim.id, session=session)
    assert [p.platform for p in history.posts] == ["reddit", "x"]
    assert [(d.isoformat(), score) for d, score, _ in history.sentiment_by_day] == [
        ("2026-11-16", -1.0),
        ("2026-11-17", 1.0),
    ]
    assert len(history.open_items) == 2  # both were seeded as complaints


def test_item_context_brings_post_author_customer_history_and_notes(
    session, settings, seed_post, make_customer, make_staff
):
    kim = make_customer("Kim Minji")
    post = seed_post("late", customer=kim, handle="kim")
    item = _only_item(session, settings)
    add_note(item.id, "called her", actor=make_staff("amy"), session=session)
    context = item_context(item.id, session=session)
    assert (context.post.id, context.author.handle, context.customer.id) == (post.id, "kim", kim.id)
    assert [n.text for n in context.notes] == ["called her"] and context.history.posts[0].post_id == post.id


def test_item_context_names_note_writers_and_keeps_closed_items_in_the_history(
    session, settings, seed_post, make_customer, make_staff
):
    from responder.assignment import assign
    from responder.queue import close

    kim = make_customer("Kim Minji")
    seed_post("late again", customer=kim, handle="kim", cluster_key="first")
    admin, amy = make_staff("ann", role="admin"), make_staff("amy")
    first = _only_item(session, settings)
    close(first.id, actor=admin, session=session, now=NOW)
    seed_post("still late", customer=kim, handle="kim", cluster_key="second")
    second = _only_item(session, settings)
    assign(second.id, amy.id, actor=admin, session=session)
    add_note(second.id, "on it", actor=amy, session=session)
    context = item_context(second.id, session=session)
    assert context.assignee is not None and context.assignee.username == "amy"
    assert [context.note_authors[n.staff_id] for n in context.notes] == ["amy"]
    assert {i.id: i.status for i in context.history.items} == {first.id: "closed", second.id: "assigned"}
    assert [i.id for i in context.history.open_items] == [second.id]


def test_no_suggestion_is_another_with_its_last_sentences_cut(session, settings, seed_post):
    # A complaint without a topic of its own gets the default template; its "short reply" was the
    # same template's first sentences, shown as a second choice that said nothing new.
    seed_post("my card was charged twice the menu price", primary_topic=None)
    suggestions = suggest(_only_item(session, settings).id, session=session)
    assert suggestions[0].source == "template:default:en"
    for shorter in suggestions:
        for longer in suggestions:
            if shorter is not longer:
                sentences = [s for s in re.split(r"(?<=[.!?])\s+", shorter.text) if s]
                assert not all(s in longer.text for s in sentences), (shorter.text, longer.text)


def test_a_topic_template_still_gets_the_short_reply_beside_it(session, settings, seed_post):
    seed_post("my order never arrived", primary_topic="delivery")
    sources = [s.source for s in suggest(_only_item(session, settings).id, session=session)]
    assert sources == ["template:delivery:en", "tone:complaint:en"]


def test_praise_says_welcome_back_only_to_someone_we_answered_before(session, settings, seed_post, make_customer):
    seed_post("best latte in town!", handle="sam", is_complaint=False, sentiment="positive", intent="praise", risk=0.9)
    first_time = suggest(_only_item(session, settings).id, session=session)
    assert not any(re.search(r"again|back\\b", s.text) for s in first_time), first_time

    kim = make_customer("Kim Minji")
    earlier = seed_post("cold coffee", customer=kim, handle="kim", primary_topic="quality")
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(session, earlier, "Sorry!", at=NOW - timedelta(days=3))
    seed_post(
        "you fixed it, thank you!",
        customer=kim,
        handle="kim",
        is_complaint=False,
        sentiment="positive",
        intent="praise",
        risk=0.9,
        cluster_key="other",
    )
    again = suggest(_only_item(session, settings).id, session=session)[0]
    assert "again" in again.text and (NOW - timedelta(days=3)).date().isoformat() in again.text


def test_korean_praise_says_welcome_back_only_to_someone_we_answered_before(session, settings, seed_post):
    seed_post("라떼 정말 맛있어요!", language="ko", is_complaint=False, sentiment="positive", intent="praise", risk=0.9)
    assert not any("찾아 주셔서" in s.text for s in suggest(_only_item(session, settings).id, session=session))


@pytest.mark.parametrize(
    ("text", "language", "advice", "thanks"),
    [
        (
            "Updated the app this morning and now it crashes the second I open it.",
            "en",
            "Updating to the latest version",
            "started with the update",
        ),
        ("앱 업데이트하고 나서 실행하자마자 꺼져요.", "ko", "최신 버전으로 업데이트", "업데이트 이후에 생긴 문제"),
    ],
)
def test_someone_whose_app_broke_with_an_update_is_not_told_to_update(
    session, settings, seed_post, text, language, advice, thanks
):
    seed_post(text, language=language, primary_topic="app")
    first = suggest(_only_item(session, settings).id, session=session)[0]
    assert first.source == f"template:app:{language}"
    assert advice not in first.text and thanks in first.text


def test_an_app_complaint_without_an_update_still_gets_the_advice(session, settings, seed_post):
    seed_post("The app crashes the second I open the menu.", primary_topic="app")
    first = suggest(_only_item(session, settings).id, session=session)[0]
    assert "Updating to the latest version" in first.text and "started with the update" not in first.text


def test_what_the_customer_told_us_about_their_phone_and_app_is_not_asked_again(session, settings, seed_post):
    seed_post("@marucoffee app 5.2 crashes on launch on my iPhone 15. Can't order anything.", primary_topic="app")
    first = suggest(_only_item(session, settings).id, session=session)[0]
    assert "Could you tell us" not in first.text and "Thank you for the phone model and app version" in first.text
    assert "Updating to the latest version" not in first.text  # they know which version they run


def test_only_what_is_missing_is_asked_for(session, settings, seed_post):
    seed_post("갤럭시에서 앱이 자꾸 꺼져요.", language="ko", primary_topic="app", handle="a")
    seed_post("Since the 5.2.0 update the app will not open.", primary_topic="app", handle="b", cluster_key="other")
    settings.responder.assignment = "manual"
    route_new(session=session, settings=settings, now=NOW)
    korean, english = session.exec(select(QueueItem).order_by(QueueItem.id)).all()
    asked_ko = suggest(korean.id, session=session)[0].text
    assert "앱 버전을 알려 주시겠어요?" in asked_ko and "기종" not in asked_ko
    asked_en = suggest(english.id, session=session)[0].text
    assert "Could you tell us your phone model?" in asked_en and "app version" not in asked_en


def test_a_price_or_a_rating_is_no_app_version():
    from responder.suggest import _VERSION, mentioned

    assert [mentioned(_VERSION, t) for t in ("charged $5.80", "5,800 won", "10.5% off", "3.5 stars")] == [None] * 4
    assert [mentioned(_VERSION, t) for t in ("v5.2.1 broke it", "the 5.2 update", "앱 5.2에서", "5.2.0 업데이트")] == [
        "v5.2.1",
        "5.2",
        "앱 5.2",
        "5.2.0",
    ]


def test_a_post_with_contact_details_gets_replies_that_suggest_removing_them(session, settings, seed_post):
    seed_post(
        "My gold membership was downgraded for no reason. My account email is kim.minji@example.com",
        primary_topic="loyalty",
    )
    suggestions = suggest(_only_item(session, settings).id, session=session)
    assert suggestions[0].source == "template:loyalty:en" and "contact" in suggestions[0].explanation
    assert "Could you DM us the e-mail" not in suggestions[0].text  # they gave it already
    for suggestion in suggestions:
        assert suggestion.text.endswith("please remove your contact details from this public post."), suggestion
        assert "kim.minji" not in suggestion.text and len(suggestion.text) <= 280


def test_a_retweet_of_someones_contact_details_gets_no_such_notice(session, settings, seed_post):
    seed_post("RT @kim: call me on 010-2345-6789, nobody answers", post={"is_retweet": True})
    assert not any("contact details" in s.text for s in suggest(_only_item(session, settings).id, session=session))


def test_a_past_replys_privacy_notice_is_not_reused_for_a_post_without_contact_details(session, settings, seed_post):
    old = seed_post("the parcel is late, call 010-2345-6789", handle="gp_88", embedding=[1.0, 0.0, 0.1])
    route_new(session=session, settings=settings, now=NOW)
    _sent_reply(
        session,
        old,
        "Sorry about the wait! We've asked the courier to hurry. "
        "For your privacy, please remove your contact details from this public post.",
    )
    seed_post("my parcel is late too", handle="ann", embedding=[0.9, 0.05, 0.1])
    texts = [
        s.text for s in suggest(_only_item(session, settings).id, session=session) if s.source.startswith("similar:")
    ]
    assert texts and texts[0].endswith("asked the courier to hurry."), texts


def test_a_sentence_that_must_stay_whole_is_kept_and_the_rest_cut_at_a_sentence():
    from responder.limits import fit

    body = "Hi Sam, I'm sorry about this. Could you send us a DM with the details so I can look into it right away?"
    tail = "For your privacy, please remove your contact details from this public post."
    fitted = fit(" ".join([body] * 3), "x", tail=tail)
    assert len(fitted) <= 280 and fitted.endswith(tail)
    assert fitted.removesuffix(f" {tail}").endswith(("this.", "away?")) and "…" not in fitted
    assert fit("short enough.", "x", tail=tail) == f"short enough. {tail}"
