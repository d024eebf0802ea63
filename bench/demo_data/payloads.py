"""Planned posts rendered as the platforms' real API response bodies, one body per page.

Shapes follow the recordings in tests/fixtures/platforms: X API v2 search (`data`, `includes`, `meta`),
Reddit Listing JSON, Mastodon status arrays, Bluesky `app.bsky.feed.searchPosts` output, RSS 2.0
and Naver search JSON. Ids are made the way each platform makes them (X and Mastodon snowflakes
from the creation time, Reddit base-36 ids, Bluesky TIDs), so they sort by time as real ones do.
"""

from __future__ import annotations

import html
import json
import random
import re
import string
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from bench.demo_data.people import MASTODON_HOME, Persona
from bench.demo_data.plan import EDIT_AFTER, KST, OWN_BRAND, DemoPost, Plan

X_EPOCH_MS = 1288834974657
B32_SORT = "234567abcdefghijklmnopqrstuvwxyz"
PAGE_SIZE = {"x": 25, "reddit": 25, "mastodon": 20, "bluesky": 25, "naver": 10}
SEOUL = timedelta(hours=9)
RECORDED_AT = datetime(2026, 11, 22, 14, 50, tzinfo=UTC)
CAFE_NAMES = {"coffeelovers": "커피를 사랑하는 사람들", "seoulmoms": "서울 맘 카페", "officeworkers": "직장인 쉼터"}


APP_ID = "1234567"  # the App Store id in config.toml's maru_appstore
PACKAGE = "com.maru.coffee"  # the Google Play package in config.toml's maru_googleplay
CHANNEL_ID = "UCmaruCoffee0Winter2026kr"
VIDEO_ID = "mArUwInTeR1"
PACIFIC = timezone(timedelta(hours=-8))  # Apple's feed writes its times in Cupertino's zone (PST in November)


def seed_of(seed: int, name: str) -> int:
    return seed * 1000 + sum(name.encode())


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def base36(number: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def tid(moment: datetime, clock: int) -> str:
    """A Bluesky record key: microseconds since the epoch and a clock id, base32-sortable."""
    value = (int(moment.timestamp() * 1_000_000) << 10) | clock
    return "".join(B32_SORT[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Renderer:
    """Assigns platform ids to the plan and renders each platform's pages."""

    def __init__(self, plan: Plan, seed: int) -> None:
        self.plan = plan
        self.rng = random.Random(seed + 1)
        self.rng_seed = seed
        self.files: dict[str, dict[str, bytes]] = {}
        self.retweets: Counter[str] = Counter()

    def render(self) -> dict[str, dict[str, bytes]]:
        """platform -> file name -> body."""
        by_platform: dict[str, list[DemoPost]] = {}
        rival = [p for p in self.plan.posts if p.brand != OWN_BRAND]
        for post in self.plan.posts:
            if post.brand == OWN_BRAND:
                by_platform.setdefault(post.platform, []).append(post)
        self._ids(by_platform, [p for p in self.plan.posts if p.brand == OWN_BRAND])
        self.retweets.update(p.cluster_of.external_id for p in self.plan.posts if p.kind == "retweet" and p.cluster_of)
        self._x(by_platform["x"])
        self._reddit(by_platform["reddit"])
        self._mastodon(by_platform["mastodon"])
        self._bluesky(by_platform["bluesky"])
        self._rss(by_platform["rss"])
        self._naver(by_platform["naver"])
        # The stores and YouTube draw from their own generator, so adding them left every other
        # platform's ids and pages as they were.
        self.extra_rng = random.Random(seed_of(self.rng_seed, "stores"))
        self._store_ids(by_platform)
        self._appstore(by_platform.get("appstore", []))
        self._googleplay(by_platform.get("googleplay", []))
        self._youtube(by_platform.get("youtube", []))
        # The rival's posts (the demo_byeol_x source's folder) draw from their own generator too.
        self.rng = random.Random(seed_of(self.rng_seed, "rival"))
        self._ids({"x": rival}, rival)
        self._x(rival, folder="x_byeol")
        return self.files

    # --- ids ---------------------------------------------------------------------------------

    def _ids(self, by_platform: dict[str, list[DemoPost]], posts: list[DemoPost]) -> None:
        rng = self.rng
        personas: dict[str, Persona] = {}
        for post in posts:
            assert post.persona is not None
            personas[post.persona.key] = post.persona
        for persona in personas.values():
            if persona.platform == "x":
                persona.platform_id = str(rng.randint(10**7, 10**18))
            elif persona.platform == "reddit":
                persona.platform_id = "t2_" + base36(rng.randint(36**7, 36**8))
            elif persona.platform == "mastodon":
                created = datetime(2022, 11, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 1200))
                persona.platform_id = str((int(created.timestamp() * 1000) << 16) | rng.randrange(65536))
            elif persona.platform == "bluesky":
                persona.platform_id = "did:plc:" + "".join(rng.choice(B32_SORT) for _ in range(24))
        counters = {"t3": 36**6 * 2 + rng.randint(0, 36**5), "t1": 36**6 * 30 + rng.randint(0, 36**5)}
        blog_no = 224100000000
        for platform, posts in by_platform.items():
            for post in sorted(posts, key=lambda p: p.created_at):
                ms = int(post.created_at.timestamp() * 1000)
                if platform == "x":
                    post.external_id = str(((ms - X_EPOCH_MS) << 22) | rng.randrange(1 << 22))
                elif platform == "mastodon":
                    post.external_id = str((ms << 16) | rng.randrange(65536))
                elif platform == "reddit":
                    counters[post.reddit_kind] += rng.randint(3000, 90000)
                    post.extra["id"] = base36(counters[post.reddit_kind])
                    post.external_id = f"{post.reddit_kind}_{post.extra['id']}"
                elif platform == "bluesky":
                    post.extra["rkey"] = tid(post.created_at, rng.randrange(1024))
                    post.external_id = f"at://{post.persona.platform_id}/app.bsky.feed.post/{post.extra['rkey']}"  # type: ignore[union-attr]
                elif platform == "rss":
                    # RSS knows its authors by name only (dc:creator).
                    post.persona.handle = post.persona.display_name  # type: ignore[union-attr]
                    slug = re.sub(r"[^a-z0-9]+", "-", " ".join((post.title or "post").lower().split()[:6])).strip("-")
                    host = "beannotes.example.com" if post.language == "en" else "coffeediary.example.kr"
                    slug = slug if post.language == "en" else f"post-{rng.randint(1000, 9999)}"
                    post.external_id = f"https://{host}/{post.created_at:%Y/%m}/{slug}"
                elif platform == "naver":
                    post.external_id = self._naver_link(post, blog_no)
                    if post.naver_kind != "blog":  # news and cafe results name a press or a cafe, not a person
                        source = post.extra.get("press") or post.extra["cafe"]
                        post.persona = Persona(
                            f"naver:{source}", "naver", source, CAFE_NAMES.get(source, source), "ko", 0
                        )
                    blog_no += rng.randint(5000, 900000)

    def _naver_link(self, post: DemoPost, blog_no: int) -> str:
        rng = self.rng
        if post.naver_kind == "blog":
            return f"https://blog.naver.com/{post.persona.handle}/{blog_no}"  # type: ignore[union-attr]
        if post.naver_kind == "news":
            post.extra["original"] = f"https://{post.extra['press']}/article/{rng.randint(100000, 999999)}"
            press, article = rng.randint(1, 999), rng.randint(10**9, 10**10 - 1)
            return f"https://n.news.naver.com/mnews/article/{press:03d}/{article:010d}?sid=101"
        cafe = rng.choice(["coffeelovers", "seoulmoms", "officeworkers"])
        post.extra["cafe"] = cafe
        return f"https://cafe.naver.com/{cafe}/{rng.randint(100000, 999999)}"

    def _dead(self, platform: str, file: str, reason: str) -> None:
        self.plan.dead_letters.append({"platform": platform, "file": file, "reason": reason})

    def _write(self, platform: str, name: str, body: bytes, posts: list[DemoPost]) -> None:
        self.files.setdefault(platform, {})[name] = body
        for post in posts:
            post.file = f"{platform}/{name}"

    # --- X -----------------------------------------------------------------------------------

    def _x(self, posts: list[DemoPost], folder: str = "x") -> None:
        pages = list(chunks(sorted(posts, key=lambda p: p.created_at, reverse=True), PAGE_SIZE["x"]))
        for number, page in enumerate(pages, start=1):
            tweets = [self._tweet(p) for p in page]
            referenced = {
                r.external_id: r
                for p in page
                for r in (p.cluster_of if p.kind == "retweet" else None, p.quote_of, p.reply_to)
                if r is not None
            }
            users = {p.persona.key: p.persona for p in [*page, *referenced.values()]}  # type: ignore[union-attr]
            name = f"page-{number:04d}.json"
            if number == 3 and folder == "x":  # a withheld tweet without text: must become a dead letter
                broken = {
                    "id": str(int(page[5].external_id) - 7),
                    "author_id": page[5].persona.platform_id,  # type: ignore[union-attr]
                    "created_at": iso_ms(page[5].created_at),
                    "edit_history_tweet_ids": [],
                }
                tweets.insert(6, broken)
                self._dead("x", f"x/{name}", "tweet without 'text'")
            meta: dict[str, Any] = {
                "newest_id": page[0].external_id,
                "oldest_id": page[-1].external_id,
                "result_count": len(tweets),
            }
            if number < len(pages):
                meta["next_token"] = "".join(self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(27))
            body = {
                "data": tweets,
                "includes": {
                    "users": [self._x_user(u) for u in users.values()],
                    "tweets": [self._tweet(r) for r in referenced.values()],
                },
                "meta": meta,
            }
            self._write(folder, name, _json(body), page)

    def _tweet(self, post: DemoPost) -> dict[str, Any]:
        refs = []
        if post.kind == "retweet" and post.cluster_of is not None:
            refs.append({"type": "retweeted", "id": post.cluster_of.external_id})
        if post.quote_of is not None:
            refs.append({"type": "quoted", "id": post.quote_of.external_id})
        if post.reply_to is not None:
            refs.append({"type": "replied_to", "id": post.reply_to.external_id})
        text = post.text
        if post.quote_of is not None:
            text += " https://t.co/" + "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(10))
        likes = 0 if post.kind == "retweet" else int(self.rng.expovariate(1 / 6))
        # X reports the original's retweet count on the retweet too.
        original = post.cluster_of if post.kind == "retweet" and post.cluster_of is not None else post
        retweets = max(likes // 4 if original is post else 0, self.retweets[original.external_id])
        tweet: dict[str, Any] = {
            "author_id": post.persona.platform_id,  # type: ignore[union-attr]
            "conversation_id": (post.reply_to.external_id if post.reply_to else post.external_id),
            "created_at": iso_ms(post.created_at),
            "edit_history_tweet_ids": [post.external_id],
            "id": post.external_id,
            "lang": post.language,
            "public_metrics": {
                "retweet_count": retweets,
                "reply_count": int(self.rng.random() < 0.3),
                "like_count": likes,
                "quote_count": 0,
                "bookmark_count": int(self.rng.random() < 0.1),
                "impression_count": likes * 37 + self.rng.randint(20, 400),
            },
            "text": text,
        }
        if post.reply_to is not None:
            tweet["in_reply_to_user_id"] = post.reply_to.persona.platform_id  # type: ignore[union-attr]
        if refs:
            tweet["referenced_tweets"] = refs
        return tweet

    def _x_user(self, persona: Persona) -> dict[str, Any]:
        return {
            "description": persona.bio
            or ("Coffee, mornings and the city." if persona.language == "en" else "커피와 일상"),
            "id": persona.platform_id,
            "name": persona.display_name or persona.handle,
            "public_metrics": {
                "followers_count": persona.followers,
                "following_count": 80 + persona.followers % 700,
                "tweet_count": 200 + persona.followers % 5000,
                "listed_count": persona.followers // 900,
                "like_count": 500 + persona.followers % 9000,
            },
            "username": persona.handle,
            "verified": False,
        }

    # --- Reddit ------------------------------------------------------------------------------

    def _reddit(self, posts: list[DemoPost]) -> None:
        number = 0
        for kind in ("t3", "t1"):
            mine = sorted((p for p in posts if p.reddit_kind == kind), key=lambda p: p.created_at, reverse=True)
            pages = list(chunks(mine, PAGE_SIZE["reddit"]))
            for index, page in enumerate(pages):
                number += 1
                name = f"page-{number:04d}.json"
                children = [{"kind": kind, "data": self._reddit_thing(p)} for p in page]
                if kind == "t3" and index == 0:  # a post without its title: must become a dead letter
                    broken = self._reddit_thing(page[3])
                    broken.pop("title")
                    broken["id"] = base36(int(page[3].extra["id"], 36) + 11)
                    broken["name"] = f"t3_{broken['id']}"
                    children.insert(4, {"kind": "t3", "data": broken})
                    self._dead("reddit", f"reddit/{name}", "post without 'title'")
                after = page[-1].external_id if index < len(pages) - 1 else None
                listing = {
                    "kind": "Listing",
                    "data": {
                        "after": after,
                        "dist": len(children),
                        "modhash": "",
                        "geo_filter": "",
                        "children": children,
                        "before": None,
                    },
                }
                self._write("reddit", name, _json(listing), page)

    def _reddit_thing(self, post: DemoPost) -> dict[str, Any]:
        persona = post.persona
        assert persona is not None
        score = 1 + int(self.rng.expovariate(1 / 8))
        common = {
            "subreddit_id": _subreddit_id(post.subreddit),
            "subreddit": post.subreddit,
            "subreddit_name_prefixed": f"r/{post.subreddit}",
            "author": persona.handle,
            "author_fullname": persona.platform_id,
            "id": post.extra["id"],
            "name": post.external_id,
            "score": score,
            "ups": score,
            "downs": 0,
            "created_utc": float(int(post.created_at.timestamp())),
            "edited": False,
            "stickied": False,
            "distinguished": None,
            "author_flair_text": "Official" if post.kind == "own" else None,
        }
        if post.reddit_kind == "t3":
            slug = "_".join("".join(ch for ch in w.lower() if ch.isalnum()) for w in (post.title or "").split()[:7])
            permalink = f"/r/{post.subreddit}/comments/{post.extra['id']}/{slug}/"
            return {
                **common,
                "title": post.title,
                "selftext": post.text,
                "selftext_html": _md_html(post.text) if post.text else None,
                "domain": f"self.{post.subreddit}",
                "is_self": True,
                "num_comments": sum(1 for p in self.plan.posts if p.reply_to is post),
                "over_18": False,
                "permalink": permalink,
                "url": f"https://www.reddit.com{permalink}",
                "upvote_ratio": round(self.rng.uniform(0.7, 1.0), 2),
                "link_flair_text": None,
            }
        root = post.reply_to
        while root is not None and root.reddit_kind == "t1":
            root = root.reply_to
        assert root is not None and post.reply_to is not None
        slug = "_".join("".join(ch for ch in w.lower() if ch.isalnum()) for w in (root.title or "").split()[:7])
        link_permalink = f"/r/{root.subreddit}/comments/{root.extra['id']}/{slug}/"
        return {
            **common,
            "body": post.text,
            "body_html": _md_html(post.text),
            "link_id": root.external_id,
            "link_title": root.title,
            "link_author": root.persona.handle,  # type: ignore[union-attr]
            "link_permalink": f"https://www.reddit.com{link_permalink}",
            "parent_id": post.reply_to.external_id,
            "permalink": f"{link_permalink}{post.extra['id']}/",
            "is_submitter": False,
            "controversiality": 0,
        }

    # --- Mastodon ----------------------------------------------------------------------------

    def _mastodon(self, posts: list[DemoPost]) -> None:
        ordered = sorted(posts, key=lambda p: p.created_at, reverse=True)
        for number, page in enumerate(chunks(ordered, PAGE_SIZE["mastodon"]), start=1):
            statuses = [self._status(p) for p in page]
            name = f"page-{number:04d}.json"
            if number == 2:  # a status that lost its account: must become a dead letter
                broken = self._status(page[2])
                broken.pop("account")
                broken["id"] = str(int(page[2].external_id) + 3)
                statuses.insert(3, broken)
                self._dead("mastodon", f"mastodon/{name}", "status without 'account'")
            self._write("mastodon", name, _json(statuses), page)

    def _status(self, post: DemoPost) -> dict[str, Any]:
        persona = post.persona
        assert persona is not None
        username, _, host = persona.handle.partition("@")
        host = host or MASTODON_HOME
        tags = [w.lstrip("#").rstrip(".,!") for w in post.text.split() if w.startswith("#")]
        url = f"https://{host}/@{username}/{post.external_id}"
        return {
            "id": post.external_id,
            "created_at": iso_ms(post.created_at),
            "in_reply_to_id": post.reply_to.external_id if post.reply_to else None,
            "in_reply_to_account_id": post.reply_to.persona.platform_id if post.reply_to else None,  # type: ignore[union-attr]
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": post.language,
            "uri": f"https://{host}/users/{username}/statuses/{post.external_id}",
            "url": url,
            "replies_count": sum(1 for p in self.plan.posts if p.reply_to is post),
            "reblogs_count": int(self.rng.random() < 0.3),
            "favourites_count": int(self.rng.expovariate(1 / 4)),
            "quotes_count": 0,
            "edited_at": None,
            "content": _mastodon_html(post.text),
            "reblog": None,
            "account": {
                "id": persona.platform_id,
                "username": username,
                "acct": persona.handle,
                "display_name": persona.display_name,
                "locked": False,
                "bot": False,
                "discoverable": True,
                "group": False,
                "created_at": "2023-01-15T00:00:00.000Z",
                "note": f"<p>{html.escape(persona.bio)}</p>" if persona.bio else "",
                "url": f"https://{host}/@{username}",
                "uri": f"https://{host}/users/{username}",
                "avatar": f"https://{MASTODON_HOME}/avatars/original/missing.png",
                "followers_count": persona.followers,
                "following_count": 50 + persona.followers % 400,
                "statuses_count": 30 + persona.followers % 3000,
                "last_status_at": post.created_at.strftime("%Y-%m-%d"),
                "emojis": [],
                "fields": [],
            },
            "media_attachments": [],
            "mentions": [],
            "tags": [{"name": t.lower(), "url": f"https://{MASTODON_HOME}/tags/{t.lower()}"} for t in tags],
            "emojis": [],
            "card": None,
            "poll": None,
            "quote": None,
        }

    # --- Bluesky -----------------------------------------------------------------------------

    def _bluesky(self, posts: list[DemoPost]) -> None:
        ordered = sorted(posts, key=lambda p: p.created_at, reverse=True)
        pages = list(chunks(ordered, PAGE_SIZE["bluesky"]))
        for number, page in enumerate(pages, start=1):
            views = [self._post_view(p) for p in page]
            name = f"page-{number:04d}.json"
            if number == 1:  # a post view without its record: must become a dead letter
                broken = self._post_view(page[4])
                broken.pop("record")
                broken["uri"] = broken["uri"][:-1] + ("a" if broken["uri"][-1] != "a" else "b")
                views.insert(5, broken)
                self._dead("bluesky", f"bluesky/{name}", "post view without 'record'")
            body: dict[str, Any] = {"posts": views}
            if number < len(pages):
                body["cursor"] = str(number * PAGE_SIZE["bluesky"])
            self._write("bluesky", name, _json(body), page)

    def _post_view(self, post: DemoPost) -> dict[str, Any]:
        persona = post.persona
        assert persona is not None
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "createdAt": iso_ms(post.created_at),
            "langs": [post.language],
            "text": post.text,
        }
        if post.reply_to is not None:
            parent = {"cid": self._cid(post.reply_to), "uri": post.reply_to.external_id}
            record["reply"] = {"parent": parent, "root": parent}
        return {
            "uri": post.external_id,
            "cid": self._cid(post),
            "author": {
                "did": persona.platform_id,
                "handle": persona.handle,
                "displayName": persona.display_name,
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{persona.platform_id}/bafkreiavatar@jpeg",
                "viewer": {"muted": False, "blockedBy": False},
                "labels": [],
                "createdAt": "2024-02-06T12:00:00.000Z",
            },
            "record": record,
            "replyCount": sum(1 for p in self.plan.posts if p.reply_to is post),
            "repostCount": int(self.rng.random() < 0.2),
            "likeCount": int(self.rng.expovariate(1 / 5)),
            "quoteCount": 0,
            "indexedAt": iso_ms(post.created_at + timedelta(milliseconds=self.rng.randint(200, 2000))),
            "viewer": {},
            "labels": [],
        }

    def _cid(self, post: DemoPost) -> str:
        seed = random.Random(post.external_id)
        return "bafyrei" + "".join(seed.choice(B32_SORT) for _ in range(52))

    # --- RSS ---------------------------------------------------------------------------------

    def _rss(self, posts: list[DemoPost]) -> None:
        feeds = {
            "en": ("Seoul Bean Notes", "https://beannotes.example.com/", "Coffee blog posts from Seoul", "en-us"),
            "ko": ("커피 한 잔의 기록", "https://coffeediary.example.kr/", "서울 카페와 커피 이야기", "ko-kr"),
        }
        for number, lang in enumerate(("en", "ko"), start=1):
            title, link, description, language = feeds[lang]
            mine = sorted((p for p in posts if p.language == lang), key=lambda p: p.created_at, reverse=True)
            items = [self._rss_item(p) for p in mine]
            name = f"page-{number:04d}.xml"
            if number == 1:  # an item without any date (and the channel has none): a dead letter
                items.insert(
                    2,
                    (
                        "<item><title>Draft: coffee notes</title>"
                        "<link>https://beannotes.example.com/drafts/coffee-notes</link>"
                        '<guid isPermaLink="true">https://beannotes.example.com/drafts/coffee-notes</guid>'
                        "<description>Unfinished draft.</description></item>"
                    ),
                )
                self._dead("rss", f"rss/{name}", "item without pubDate")
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
                f"<title>{escape(title)}</title>\n<link>{link}</link>\n"
                f"<description>{escape(description)}</description>\n<language>{language}</language>\n"
                + "\n".join(items)
                + "\n</channel>\n</rss>\n"
            )
            self._write("rss", name, body.encode("utf-8"), mine)

    def _rss_item(self, post: DemoPost) -> str:
        author = post.persona.display_name or post.persona.handle  # type: ignore[union-attr]
        return (
            f"<item><title>{escape(post.title or '')}</title><link>{post.external_id}</link>"
            f'<guid isPermaLink="true">{post.external_id}</guid>'
            f"<pubDate>{format_datetime(post.created_at.astimezone(UTC), usegmt=True)}</pubDate>"
            f"<dc:creator>{escape(author)}</dc:creator>"
            f"<description>{escape(f'<p>{html.escape(post.text)}</p>')}</description></item>"
        )

    # --- Naver -------------------------------------------------------------------------------

    def _naver(self, posts: list[DemoPost]) -> None:
        number = 0
        built = _rfc822(RECORDED_AT)
        for kind in ("blog", "news"):
            mine = sorted((p for p in posts if p.naver_kind == kind), key=lambda p: p.created_at, reverse=True)
            for index, page in enumerate(chunks(mine, PAGE_SIZE["naver"])):
                number += 1
                name = f"page-{number:04d}.json"
                items = [self._naver_item(p) for p in page]
                if kind == "blog" and index == 0:  # a blog item without its link: a dead letter
                    broken = self._naver_item(page[1])
                    broken.pop("link")
                    items.insert(2, broken)
                    self._dead("naver", f"naver/{name}", "blog item without 'link'")
                body = {
                    "lastBuildDate": built,
                    "total": len(mine) + 1,
                    "start": 1 + index * PAGE_SIZE["naver"],
                    "display": len(items),
                    "items": items,
                }
                self._write("naver", name, _naver_json(body), page)
        # Cafe results carry no date; each was recorded on its own, so its build time dates it.
        for post in sorted((p for p in posts if p.naver_kind == "cafearticle"), key=lambda p: p.created_at):
            number += 1
            name = f"page-{number:04d}.json"
            body = {
                "lastBuildDate": _rfc822(post.created_at),
                "total": 1,
                "start": 1,
                "display": 1,
                "items": [self._naver_item(post)],
            }
            self._write("naver", name, _naver_json(body), [post])

    def _naver_item(self, post: DemoPost) -> dict[str, Any]:
        persona = post.persona
        assert persona is not None
        title = post.title or _naver_title(post)
        item = {"title": _highlight(title), "link": post.external_id, "description": _highlight(post.text)}
        if post.naver_kind == "blog":
            item |= {
                "bloggername": persona.display_name,
                "bloggerlink": f"blog.naver.com/{persona.handle}",
                "postdate": (post.created_at + KST).strftime("%Y%m%d"),
            }
        elif post.naver_kind == "news":
            item = {
                "title": item["title"],
                "originallink": post.extra["original"],
                "link": post.external_id,
                "description": item["description"],
                "pubDate": _rfc822(post.created_at),
            }
        else:
            cafe = post.extra["cafe"]
            item |= {"cafename": CAFE_NAMES[cafe], "cafeurl": f"https://cafe.naver.com/{cafe}"}
        return item

    # --- App Store, Google Play, YouTube ---------------------------------------------------------

    def _store_ids(self, by_platform: dict[str, list[DemoPost]]) -> None:
        rng = self.extra_rng
        review_no = 11_423_000_000
        for post in sorted(by_platform.get("appstore", []), key=lambda p: p.created_at):
            review_no += rng.randint(20_000, 900_000)
            post.external_id = str(review_no)
            reviewer = rng.randint(10**8, 10**10)  # drawn for every review, kept for the author's first
            if not post.persona.platform_id:  # type: ignore[union-attr]
                post.persona.platform_id = f"https://itunes.apple.com/kr/reviews/id{reviewer}"  # type: ignore[union-attr]
        alphabet = string.ascii_letters + string.digits + "-_"
        for post in sorted(by_platform.get("googleplay", []), key=lambda p: p.created_at):
            if post.reply_to is None:
                post.external_id = "gp:AOqpTO" + "".join(rng.choice(alphabet) for _ in range(40))
                post.persona.handle = post.persona.display_name  # type: ignore[union-attr]  # Google shows a name only
        for post in by_platform.get("googleplay", []):
            if post.reply_to is not None:
                post.external_id = post.reply_to.external_id + ":reply"
        channels: dict[str, str] = {}
        for post in sorted(by_platform.get("youtube", []), key=lambda p: p.created_at):
            persona = post.persona
            assert persona is not None
            if persona.key not in channels:
                channels[persona.key] = (
                    CHANNEL_ID if post.kind == "own" else "UC" + "".join(rng.choice(alphabet) for _ in range(22))
                )
            persona.platform_id = channels[persona.key]
            suffix = "".join(rng.choice(alphabet) for _ in range(20))
            if post.reply_to is None:
                post.external_id = f"Ugz{suffix}4AaABAg"
            else:
                post.external_id = f"{post.reply_to.external_id}.{suffix[:11]}{rng.choice('ABCD')}{suffix[11:]}"

    def _appstore(self, posts: list[DemoPost]) -> None:
        """Two recordings of the kr feed, each one page, newest first: on 12 Nov and at the end. The
        edited review is in the first as written and in the second as edited (with its new time)."""
        if not posts:
            return
        first = sorted((p for p in posts if p.created_at < EDIT_AFTER), key=lambda p: p.created_at, reverse=True)
        later = [p for p in posts if p.created_at >= EDIT_AFTER or p.edited_at is not None]
        later.sort(key=lambda p: p.edited_at or p.created_at, reverse=True)
        for number, (page, edited) in enumerate(((first, False), (later, True)), start=1):
            entries = [self._app_entry()] + [self._review_entry(p, edited=edited) for p in page]
            name = f"page-{number:04d}.json"
            if number == 2:  # a review with no stars (0): a dead letter
                broken = self._review_entry(page[1], edited=True)
                broken["id"]["label"] = str(int(page[1].external_id) + 17)
                broken["im:rating"]["label"] = "0"
                entries.insert(3, broken)
                self._dead("appstore", f"appstore/{name}", "review rated 0 stars")
            self._write(
                "appstore",
                name,
                _json(_appstore_feed(entries, number)),
                [p for p in page if edited or p.edited_at is None],
            )

    def _app_entry(self) -> dict[str, Any]:
        return {
            "im:name": {"label": "마루커피 - Maru Coffee"},
            "rights": {"label": "© 2026 Maru Coffee Co."},
            "im:price": {"label": "받기", "attributes": {"amount": "0.00", "currency": "KRW"}},
            "im:contentType": {"attributes": {"term": "Application", "label": "애플리케이션"}},
            "id": {
                "label": f"https://apps.apple.com/kr/app/maru-coffee/id{APP_ID}?uo=2",
                "attributes": {"im:id": APP_ID, "im:bundleId": PACKAGE},
            },
            "im:artist": {
                "label": "Maru Coffee Co.",
                "attributes": {"href": "https://apps.apple.com/kr/developer/maru-coffee-co/id1234000"},
            },
            "category": {"attributes": {"im:id": "6023", "term": "Food & Drink", "label": "음식 및 음료"}},
        }

    def _review_entry(self, post: DemoPost, *, edited: bool) -> dict[str, Any]:
        persona = post.persona
        assert persona is not None and post.rating is not None
        title, text, stars = (post.title or "", post.text, post.rating)
        if post.before_edit is not None and not edited:
            title, text, stars = post.before_edit
        moment = post.edited_at if edited and post.edited_at else post.created_at
        votes = int(self.extra_rng.expovariate(1 / 2))
        return {
            "author": {"uri": {"label": persona.platform_id}, "name": {"label": persona.handle}, "label": ""},
            "updated": {"label": moment.astimezone(PACIFIC).isoformat()},
            "im:rating": {"label": str(stars)},
            "im:version": {"label": post.app_version},
            "id": {"label": post.external_id},
            "title": {"label": title},
            "content": {"label": text, "attributes": {"type": "text"}},
            "link": {
                "attributes": {
                    "rel": "related",
                    "href": f"https://itunes.apple.com/kr/review?id={APP_ID}&type=Purple%20Software",
                }
            },
            "im:voteSum": {"label": str(votes)},
            "im:contentType": {"attributes": {"term": "Application", "label": "애플리케이션"}},
            "im:voteCount": {"label": str(votes + int(self.extra_rng.random() < 0.3))},
        }

    def _googleplay(self, posts: list[DemoPost]) -> None:
        """One answer of google-play-scraper's `reviews(…, lang="ko", country="kr", sort=NEWEST)`, as
        JSON (its datetimes as zone-less UTC strings); developer answers ride on their reviews."""
        reviews = sorted((p for p in posts if p.reply_to is None), key=lambda p: p.created_at, reverse=True)
        if not reviews:
            return
        answers = {p.reply_to.external_id: p for p in posts if p.reply_to is not None}  # type: ignore[union-attr]
        records = [self._play_record(p, answers.get(p.external_id)) for p in reviews]
        broken = self._play_record(reviews[2], None)  # a review with 0 stars: a dead letter
        broken["reviewId"] = reviews[2].external_id[:-4] + "zzzz"
        broken["score"] = 0
        records.insert(3, broken)
        self._dead("googleplay", "googleplay/page-0001.json", "review scored 0")
        self._write("googleplay", "page-0001.json", _json(records), posts)

    def _play_record(self, post: DemoPost, answer: DemoPost | None) -> dict[str, Any]:
        persona = post.persona
        assert persona is not None
        return {
            "reviewId": post.external_id,
            "userName": persona.display_name,
            "userImage": f"https://play-lh.googleusercontent.com/a-/ALV-{self.extra_rng.randrange(10**12):012d}",
            "content": post.text,
            "score": post.rating,
            "thumbsUpCount": int(self.extra_rng.expovariate(1 / 3)),
            "reviewCreatedVersion": post.app_version,
            "at": _naive(post.created_at),
            "replyContent": answer.text if answer else None,
            "repliedAt": _naive(answer.created_at) if answer else None,
            "appVersion": post.app_version,
        }

    def _youtube(self, posts: list[DemoPost]) -> None:
        """One `commentThreads.list(allThreadsRelatedToChannelId=…, order=time)` answer: each thread's
        top-level comment with its replies embedded, newest thread first."""
        if not posts:
            return
        tops = sorted((p for p in posts if p.reply_to is None), key=lambda p: p.created_at, reverse=True)
        items = [self._thread(p, [r for r in posts if r.reply_to is p]) for p in tops]
        broken = self._thread(tops[1], [])  # a comment whose author was removed: a dead letter
        broken["id"] = broken["snippet"]["topLevelComment"]["id"] = tops[1].external_id[:-9] + "5AaABAg"
        for key in ("authorChannelId", "authorChannelUrl"):
            broken["snippet"]["topLevelComment"]["snippet"].pop(key)
        items.insert(2, broken)
        self._dead("youtube", "youtube/page-0001.json", "comment without authorChannelId or authorChannelUrl")
        body = {
            "kind": "youtube#commentThreadListResponse",
            "etag": _etag(self.extra_rng),
            "pageInfo": {"totalResults": len(items), "resultsPerPage": 100},
            "items": items,
        }
        self._write("youtube", "page-0001.json", _json(body), posts)

    def _thread(self, post: DemoPost, replies: list[DemoPost]) -> dict[str, Any]:
        return {
            "kind": "youtube#commentThread",
            "etag": _etag(self.extra_rng),
            "id": post.external_id,
            "snippet": {
                "channelId": CHANNEL_ID,
                "videoId": VIDEO_ID,
                "topLevelComment": self._comment(post),
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            },
            **({"replies": {"comments": [self._comment(r) for r in replies]}} if replies else {}),
        }

    def _comment(self, post: DemoPost) -> dict[str, Any]:
        persona = post.persona
        assert persona is not None
        snippet: dict[str, Any] = {
            "channelId": CHANNEL_ID,
            "videoId": VIDEO_ID,
            "textDisplay": html.escape(post.text),
            "textOriginal": post.text,
            "authorDisplayName": f"@{persona.handle}",
            "authorProfileImageUrl": f"https://yt3.ggpht.com/ytc/{persona.platform_id[2:14]}=s48-c-k-c0x00ffffff-no-rj",
            "authorChannelUrl": f"http://www.youtube.com/@{persona.handle}",
            "authorChannelId": {"value": persona.platform_id},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": int(self.extra_rng.expovariate(1 / 4)),
            "publishedAt": post.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updatedAt": post.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if post.reply_to is not None:
            snippet["parentId"] = post.reply_to.external_id
        return {"kind": "youtube#comment", "etag": _etag(self.extra_rng), "id": post.external_id, "snippet": snippet}


def _appstore_feed(entries: list[dict[str, Any]], recording: int) -> dict[str, Any]:
    address = f"https://itunes.apple.com/kr/rss/customerreviews/page=1/id={APP_ID}/sortby=mostrecent/json"
    return {
        "feed": {
            "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/kr/itunes/"}},
            "entry": entries,
            "updated": {"label": ("2026-11-11T16:00:00-08:00" if recording == 1 else "2026-11-22T06:50:00-08:00")},
            "rights": {"label": "Copyright 2008 Apple Inc."},
            "title": {"label": "iTunes Store: 고객 리뷰"},
            "icon": {"label": "http://itunes.apple.com/favicon.ico"},
            "link": [
                {
                    "attributes": {
                        "rel": "alternate",
                        "type": "text/html",
                        "href": f"https://apps.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc=kr&id={APP_ID}",
                    }
                },
                {"attributes": {"rel": "self", "href": address}},
            ],
            "id": {"label": address},
        }
    }


def _naive(moment: datetime) -> str:
    """google-play-scraper's datetimes, serialised: zone-less, here in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _etag(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(27))


def _naver_title(post: DemoPost) -> str:
    if post.naver_kind == "cafearticle":  # cafe titles are the first sentence, cut short
        first = re.split(r"(?<=[.?!])\s", post.text, maxsplit=1)[0]
        return first if len(first) <= 30 else first[:29] + "…"
    return {"praise": "마루커피 방문 후기", "chatter": "마루커피 일상 기록"}.get(post.kind, "마루커피 이야기")


def _highlight(text: str) -> str:
    """Naver's search markup: entities escaped and the matched term in <b>."""
    return html.escape(text).replace("마루커피", "<b>마루커피</b>")


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone(SEOUL)))


def _subreddit_id(name: str) -> str:
    return "t5_" + {"coffee": "2qhze", "korea": "2qiog", "seoul": "2rb8x"}.get(name, "2qh1i")


def _md_html(text: str) -> str:
    return f'<div class="md"><p>{html.escape(text)}</p>\n</div>'


def _mastodon_html(text: str) -> str:
    words = []
    for word in html.escape(text, quote=False).split(" "):
        if word.startswith("#") and len(word) > 1:
            tag = word[1:].rstrip(".,!")
            rest = word[1 + len(tag) :]
            word = (
                f'<a href="https://{MASTODON_HOME}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
                f"#<span>{tag}</span></a>{rest}"
            )
        words.append(word)
    return "<p>" + " ".join(words) + "</p>"


def _json(body: Any) -> bytes:
    return (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _naver_json(body: Any) -> bytes:
    # Naver escapes slashes ("https:\/\/…", "<\/b>"); any JSON reader accepts it, and so must ours.
    return (json.dumps(body, ensure_ascii=False, indent=1).replace("/", "\\/") + "\n").encode("utf-8")
