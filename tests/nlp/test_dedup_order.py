"""A retweet analyzed before its original still ends in the original's cluster."""

import numpy as np

from dangol.core.types import ClusterMember
from nlp.dedup import DedupItem, cluster_keys

TEXT = "Ordered two flat whites through delivery at 8:10 and they showed up cold at 9:30"


def test_original_joins_the_cluster_its_earlier_retweet_opened_in_the_same_batch() -> None:
    retweet = DedupItem(1, "x", f"RT @roast: {TEXT}", referenced_id="100", language="en", external_id="200")
    original = DedupItem(2, "x", TEXT, language="en", external_id="100")
    vectors = np.eye(2, 4, dtype=np.float32)  # unrelated embeddings: only the reference can join them
    _, keys = cluster_keys([retweet, original], vectors, [], threshold=0.92)
    assert keys[0] == keys[1] == "r:x:100"


def test_original_joins_the_cluster_its_retweet_opened_in_an_earlier_batch() -> None:
    earlier = ClusterMember("r:x:100", "h", np.eye(1, 4, 1, dtype=np.float32)[0], "x", "200")
    original = DedupItem(2, "x", TEXT, language="en", external_id="100")
    _, keys = cluster_keys([original], np.eye(1, 4, dtype=np.float32), [earlier], threshold=0.92)
    assert keys == ["r:x:100"]


def test_unrelated_post_keeps_a_cluster_of_its_own() -> None:
    other = DedupItem(3, "x", "The new seasonal menu at the Gangnam store looks lovely this week", external_id="300")
    _, keys = cluster_keys([other], np.eye(1, 4, dtype=np.float32), [], threshold=0.92)
    assert keys == ["p:3"]
