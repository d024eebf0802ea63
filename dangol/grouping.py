"""Near-duplicates that parallel analysis split: grouped again before routing.

Workers analyze batches at the same time, and a post only joins clusters of posts already stored
as analyzed: two copies of one complaint analyzed at the same moment by two workers each begin a
cluster of their own, and a burst becomes several queue items (the 4-worker soak in BENCHMARKS.md:
42 items with one worker, 96 with four). Routing runs one pass at a time across workers, so before
it routes, the clusters not yet routed are grouped again by the post that began each, against the
other posts of the duplicate window (nlp.dedup.regroup), and move whole into the cluster they
would have joined had the workers analyzed one after the other.
"""

from __future__ import annotations

from sqlmodel import Session

from dangol.core.settings import NlpSettings
from storage import analyses


def regroup_parallel_duplicates(nlp: NlpSettings, session: Session, blind_languages: frozenset[str]) -> int:
    """Merge clusters that parallel analysis split into the one begun first (in the caller's
    transaction); how many clusters moved."""
    # Posts about us and posts about competitors only are grouped apart, as they were analyzed.
    return sum(_regroup(nlp, session, blind_languages, competitor) for competitor in (False, True))


def _regroup(nlp: NlpSettings, session: Session, blind_languages: frozenset[str], competitor: bool) -> int:
    from nlp.dedup import DedupItem, Written, regroup

    starters = analyses.unrouted_cluster_starters(session=session, competitor=competitor)
    if not starters:
        return 0
    start, end = analyses.window_around([s.created_at for s in starters], nlp.duplicate_window_hours)
    between = analyses.analyzed_between(session=session, start=start, end=end, competitor=competitor)
    rows = {g.post_id: g for g in between}
    rows.update({s.post_id: s for s in starters if s.post_id not in rows})

    def written(g: analyses.GroupedPost) -> Written:
        m = g.member
        item = DedupItem(g.post_id, m.platform, m.text, g.referenced_id, g.language, m.external_id)
        return Written(item, m.embedding, m, (g.created_at, g.post_id))

    window = {post_id: written(g) for post_id, g in rows.items()}
    moves = regroup(
        [window[s.post_id] for s in starters],
        list(window.values()),
        nlp.duplicate_similarity,
        blind_languages,
    )
    analyses.move_clusters(session=session, moves=moves)
    return len(moves)
