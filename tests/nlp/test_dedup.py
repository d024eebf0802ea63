"""Near-duplicates: retweets, copy-paste campaigns and paraphrases join one cluster; short texts do not."""

from __future__ import annotations

import numpy as np
import pytest

from dangol.core.types import ClusterMember
from nlp.dedup import DedupItem, Written, cluster_keys, normalize_text, regroup, text_hash
from tests.nlp.semantic_fakes import HashingEncoder

CAMPAIGN = "Boycott Acme Coffee until they pay their baristas fairly! #fairpay"


def keys_for(texts: list[str], recent: list[ClusterMember] | None = None, refs: list[str | None] | None = None,
             threshold: float = 0.92) -> list[str]:  # fmt: skip
    refs = refs or [None] * len(texts)
    items = [DedupItem(100 + i, "x", t, r) for i, (t, r) in enumerate(zip(texts, refs, strict=True))]
    return cluster_keys(items, HashingEncoder().encode(texts), recent or [], threshold)[1]


def member(text: str, key: str, external_id: str = "e1") -> ClusterMember:
    return ClusterMember(key, text_hash(text), HashingEncoder().encode([text])[0], "x", external_id)


def test_normalization_strips_urls_mentions_rt_punctuation_space_and_case() -> None:
    assert normalize_text("RT @fan: Boycott   ACME!!! https://t.co/x") == "boycott acme"
    assert text_hash("Boycott ACME https://a.b/1") == text_hash("boycott acme. https://c.d/2 @someone")


def test_copy_paste_campaign_in_one_batch_shares_the_first_posts_key() -> None:
    texts = [
        CAMPAIGN,
        f"@AcmeCoffee {CAMPAIGN} https://t.co/abc",
        "My latte was cold this morning, please fix it",
        f"RT {CAMPAIGN.upper()}",
    ]
    keys = keys_for(texts)
    assert keys[0] == keys[1] == keys[3] == "p:100"
    assert keys[2] == "p:102"


def test_new_copy_joins_the_cluster_of_a_recent_post() -> None:
    keys = keys_for([f"{CAMPAIGN} !!"], recent=[member(CAMPAIGN, "p:7")])
    assert keys == ["p:7"]


def test_retweet_joins_the_cluster_of_the_post_it_references() -> None:
    recent = [member("Totally different words here about the menu prices", "p:9", external_id="orig-1")]
    assert keys_for(["rt"], recent=recent, refs=["orig-1"]) == ["p:9"]


def test_retweets_of_an_unseen_post_share_a_reference_key() -> None:
    keys = keys_for(["rt one", "quote with other words entirely"], refs=["123", "123"])
    assert keys == ["r:x:123", "r:x:123"]


def test_paraphrase_above_the_similarity_threshold_joins_and_below_does_not() -> None:
    base = "the delivery driver left my order at the wrong house again today"
    close = "the delivery driver left my order at the wrong house again"
    assert keys_for([base, close], threshold=0.9) == ["p:100", "p:100"]
    assert keys_for([base, close], threshold=0.99) == ["p:100", "p:101"]


@pytest.mark.parametrize("texts", [["thanks!", "Thanks"], ["😡😡", "😡"], ["", ""]])
def test_short_emoji_and_empty_texts_are_never_grouped(texts: list[str]) -> None:
    assert keys_for(texts) == ["p:100", "p:101"]


def test_keys_are_deterministic_for_the_same_input() -> None:
    texts = [CAMPAIGN, "other words about an app crash at checkout today", CAMPAIGN + "?"]
    assert keys_for(texts) == keys_for(texts)


def test_empty_batch_gives_no_keys() -> None:
    assert cluster_keys([], np.zeros((0, 8), dtype=np.float32), [], 0.9) == ([], [])


def _written(post_id: int, text: str, minute: int, key: str | None = None) -> Written:
    vector = HashingEncoder().encode([text])[0]
    member = ClusterMember(key or f"p:{post_id}", text_hash(text), vector, "x", f"e{post_id}", text)
    return Written(DedupItem(post_id, "x", text, None, "en", f"e{post_id}"), vector, member, (minute, post_id))


def test_copies_split_by_parallel_analysis_join_the_first_written() -> None:
    # Three copies, each analyzed by another worker at once: each began a cluster of its own.
    first, second, third = _written(1, CAMPAIGN, 0), _written(2, f"RT {CAMPAIGN}", 1), _written(3, CAMPAIGN, 2)
    other = _written(4, "My latte was cold this morning, please fix it", 1)
    window = [first, second, third, other]
    moves = regroup([third, second, first, other], window, 0.92)
    assert moves == {"p:2": "p:1", "p:3": "p:1"}  # the original keeps its key; unrelated posts stay


def test_a_split_cluster_moves_whole_and_its_copies_follow() -> None:
    # Worker A began p:1 and a copy in its batch joined it; worker B began p:3 the same way.
    a1, a2 = _written(1, CAMPAIGN, 0), _written(2, CAMPAIGN, 2, key="p:1")
    b1, b2 = _written(3, f"RT {CAMPAIGN}", 1), _written(4, CAMPAIGN, 3, key="p:3")
    assert regroup([a1, b1], [a1, a2, b1, b2], 0.92) == {"p:3": "p:1"}
    assert b2.member.cluster_key == "p:1"


def test_a_copy_joins_the_cluster_its_earlier_copy_already_belongs_to() -> None:
    routed = _written(7, CAMPAIGN, 0, key="p:5")  # already grouped (and routed) under p:5
    late = _written(9, CAMPAIGN, 3)
    assert regroup([late], [routed, late], 0.92) == {"p:9": "p:5"}
    # The other worker's copy was written later but its cluster is already routed: join it.
    early = _written(2, CAMPAIGN, -5)
    assert regroup([early], [early, routed], 0.92) == {"p:2": "p:5"}
    # A copy of nothing stays the start of its cluster.
    alone = _written(11, "My latte was cold this morning, please fix it", 1)
    assert regroup([alone], [alone, routed], 0.92) == {}
