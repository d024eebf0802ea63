"""The demo's story as data: who posts what, where and when, and what each post is meant to be.

`build_plan(seed)` returns every intended post (`DemoPost`) with its facts (kind, language,
sentiment, topic, should it be queued, which customer it is and how we know). Payload rendering
(payloads.py) only turns these into platform API shapes; expectations.json is written from them.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.demo_data import texts
from bench.demo_data.people import Customer, Persona, customer_personas, make_customers, unknown_persona

START = datetime(2026, 10, 26, tzinfo=UTC)
END = datetime(2026, 11, 23, tzinfo=UTC)  # exclusive: the last day is 2026-11-22 (UTC)
BURST_START = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
BURST_END = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
KST = timedelta(hours=9)
OWN_HANDLES = {
    "x": "marucoffee",
    "reddit": "marucoffee_official",
    "mastodon": "maru@coffee.social",
    "bluesky": "marucoffee.bsky.social",
    "googleplay": "marucoffee",  # the developer's answers under reviews (the demo source's `developer`)
    "youtube": "marucoffee",  # the brand's channel, @marucoffee
}
# The app's 5.2 update (announced on X at this time): reviews before it were written on 5.1.2, after
# it on 5.2.0, whose login bug the version report should show.
RELEASE = datetime(2026, 11, 19, 10, 5, tzinfo=UTC)
VERSIONS = ("5.1.2", "5.2.0")
EDIT_AFTER = datetime(2026, 11, 12, tzinfo=UTC)  # the edited review is edited after this day
VIDEO_AT = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)  # the brand channel's winter-menu video
# Outside the burst, no 6-hour window holds more than this many posts of a scope, so the
# ordinary days never look like a spike and the burst is the only episode.
CAPS = {"all": 6, "platform": 4, "topic": 2, "negative": 4}
PLATFORM_ODDS = {
    "en": {"x": 45, "reddit": 18, "mastodon": 17, "bluesky": 20},
    "ko": {"x": 45, "naver": 35, "bluesky": 12, "mastodon": 8},
}
QUEUED_KINDS = {"complaint", "question"}
# The brands of config.toml's [brands]: Maru Coffee, and the rival chain Byeol Coffee (별빛커피),
# whose posts on X are the demo_byeol_x source's, in dangol/demo_data/x_byeol.
OWN_BRAND = "maru"
RIVAL_BRAND = "byeol"
RIVAL_LAST = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # before the demo's newest post (dangol.demo)


@dataclass(eq=False)
class DemoPost:
    """One intended post and the facts the pipeline should find in it."""

    platform: str
    kind: str  # complaint | praise | question | chatter | spam | retweet | duplicate | own
    language: str
    text: str
    sentiment: str | None
    topic: str | None
    persona: Persona | None = None
    created_at: datetime = START
    title: str | None = None
    customer: str | None = None
    link_method: str | None = None  # handle | email | order | fuzzy_name
    in_burst: bool = False
    cluster_of: DemoPost | None = None
    quote_of: DemoPost | None = None
    reply_to: DemoPost | None = None
    naver_kind: str | None = None  # blog | news | cafearticle
    reddit_kind: str = "t3"
    subreddit: str = ""
    external_id: str = ""
    file: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Store reviews: the stars, the app version written on, the developer's answer (Google Play) and
    # an edit (the text, title and stars before it, and when it was edited; `text` is the edited one).
    rating: int | None = None
    app_version: str = ""
    answered: bool = False
    before_edit: tuple[str, str, int] | None = None
    edited_at: datetime | None = None
    # The [brands] key the post is about: Maru Coffee's own, or the rival's (never queued).
    brand: str = OWN_BRAND

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.external_id}"

    @property
    def head(self) -> DemoPost:
        """The post whose queue item this one belongs to (itself unless a retweet or duplicate)."""
        return self.cluster_of.head if self.cluster_of is not None else self

    @property
    def should_queue(self) -> bool:
        # A store review the developer has answered is done (responder.queue skips it); a post about
        # the rival only is analyzed but never queued.
        return self.head.kind in QUEUED_KINDS and not self.head.answered and self.head.brand == OWN_BRAND


@dataclass
class Plan:
    customers: list[Customer]
    posts: list[DemoPost]
    dead_letters: list[dict[str, str]] = field(default_factory=list)


class Load:
    """Posts per hour per scope, to keep ordinary days below spike level."""

    def __init__(self) -> None:
        self.hours: dict[str, Counter[int]] = {}

    @staticmethod
    def scopes(post: DemoPost) -> list[tuple[str, int]]:
        found = [("all", CAPS["all"]), (f"platform:{post.platform}", CAPS["platform"])]
        if post.topic:
            found.append((f"topic:{post.topic}", CAPS["topic"]))
        if post.sentiment == "negative":
            found.append(("negative", CAPS["negative"]))
        return found

    def fits(self, post: DemoPost, moment: datetime) -> bool:
        hour = _hour(moment)
        for scope, cap in self.scopes(post):
            counts = self.hours.get(scope, Counter())
            for start in range(hour - 5, hour + 1):
                if sum(counts[h] for h in range(start, start + 6)) + 1 > cap:
                    return False
        return True

    def add(self, post: DemoPost) -> None:
        for scope, _ in self.scopes(post):
            self.hours.setdefault(scope, Counter())[_hour(post.created_at)] += 1


def _hour(moment: datetime) -> int:
    return int((moment - START).total_seconds() // 3600)


def author(post: DemoPost) -> Persona:
    """The post's author (every planned post has one by the time it is rendered)."""
    assert post.persona is not None, f"{post.platform} post without an author"
    return post.persona


def brand(platform: str, language: str) -> str:
    if language == "ko":
        return "마루커피"
    return "@marucoffee" if platform == "x" else "Maru Coffee"


def fill(text: str, platform: str, language: str) -> str:
    return text.replace("{brand}", brand(platform, language))


class Planner:
    """Builds the plan step by step with one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.customers = make_customers(self.rng)
        self.known = customer_personas(self.customers, self.rng)
        self.taken = {p.key for p in self.known} | {f"{p}:{h}" for p, h in OWN_HANDLES.items()}
        self.unknown: dict[tuple[str, str], list[Persona]] = {}
        self.own = {p: Persona(f"{p}:{h}", p, h, "Maru Coffee", "en", 48200) for p, h in OWN_HANDLES.items()}
        self.load = Load()
        self.posts: list[DemoPost] = []
        self.blog_days: set[str] = set()

    # --- authors -----------------------------------------------------------------------------

    def stranger(self, platform: str, language: str, influencer: bool = False) -> Persona:
        """An unknown author; people post more than once, so accounts are reused now and then."""
        pool = self.unknown.setdefault((platform, language), [])
        if pool and not influencer and self.rng.random() < 0.3:
            return self.rng.choice(pool)
        persona = unknown_persona(self.rng, platform, language, self.taken, influencer)
        pool.append(persona)
        return persona

    def customer_account(self, platform: str, language: str, queued: bool) -> Persona | None:
        """A customer's own account on `platform`; VIPs speak only in complaints and questions."""
        tiers = {c.external_ref: c.tier for c in self.customers}
        options = [
            p
            for p in self.known
            if p.platform == platform and p.language == language and (queued or tiers[p.customer or ""] != "vip")
        ]
        return self.rng.choice(options) if options else None

    # --- posts -------------------------------------------------------------------------------

    def intents(self) -> list[DemoPost]:
        """Every ordinary post before platform, author and time are chosen."""
        made: list[DemoPost] = []
        for topic, by_lang in texts.COMPLAINTS.items():
            for lang, cores in by_lang.items():
                made += [DemoPost("", "complaint", lang, core, "negative", topic) for core in cores]
        for lang, cores in texts.QUESTIONS.items():
            made += [DemoPost("", "question", lang, core, "neutral", None) for core in cores]
        for lang, count in (("en", 50), ("ko", 40)):
            made += [DemoPost("", "praise", lang, t, "positive", None) for t in self._praise(lang, count)]
        for lang, count in (("en", 45), ("ko", 35)):
            made += [DemoPost("", "chatter", lang, t, "neutral", None) for t in self._chatter(lang, count)]
        for lang, count in (("en", 12), ("ko", 8)):
            cores = texts.SPAM[lang]
            made += [DemoPost("", "spam", lang, cores[i % len(cores)], None, None) for i in range(count)]
        return made

    def _praise(self, lang: str, count: int) -> list[str]:
        combos = [
            (o, c, t) for c in texts.PRAISE[lang] for o in texts.PRAISE_OPENERS[lang] for t in texts.PRAISE_TAILS[lang]
        ]
        chosen = self.rng.sample(combos, count)
        out = []
        for opener, core, tail in chosen:
            body = core if opener else core[:1].upper() + core[1:]
            out.append(f"{opener}{body}{tail}")
        return out

    def _chatter(self, lang: str, count: int) -> list[str]:
        cores = texts.CHATTER[lang]
        combos = [(o, c) for c in cores for o in texts.CHATTER_OPENERS[lang]]
        picked = list(cores) + self.rng.sample([c for c in combos if c[0]], count - len(cores))
        return [c if isinstance(c, str) else f"{c[0]}{c[1]}" for c in picked]

    def choose_platform(self, post: DemoPost) -> str:
        odds = dict(PLATFORM_ODDS[post.language])
        if post.kind == "spam":
            odds = {"x": 60, "bluesky": 25, "mastodon": 15}
        names = list(odds)
        return self.rng.choices(names, weights=[odds[n] for n in names])[0]

    def place(self, post: DemoPost, *, after: datetime | None = None, within: timedelta | None = None) -> bool:
        """Give `post` a time that keeps every scope below spike level; False if none was found."""
        for _ in range(400):
            moment = self._moment(post, after, within)
            if moment is None:
                continue
            if BURST_START - timedelta(hours=1) <= moment <= BURST_END + timedelta(hours=1):
                continue  # the burst has the morning of 2026-11-20 to itself
            if post.naver_kind == "blog":
                day = (moment + KST).strftime("%Y%m%d")
                if day in self.blog_days:
                    continue
                moment = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC) - KST
                if moment < START:
                    continue
            if self.load.fits(post, moment):
                post.created_at = moment
                if post.naver_kind == "blog":
                    self.blog_days.add((moment + KST).strftime("%Y%m%d"))
                self.load.add(post)
                return True
        return False

    def _moment(self, post: DemoPost, after: datetime | None, within: timedelta | None) -> datetime | None:
        rng = self.rng
        if after is not None and within is not None:
            moment = after + timedelta(seconds=rng.randint(300, int(within.total_seconds())))
            return moment if moment < END else None
        day = START + timedelta(days=rng.randrange((END - START).days))
        if day.weekday() >= 5 and rng.random() < 0.2:
            return None  # a little quieter at weekends
        if post.language == "ko":  # Korean daytime, 08:00-24:00 KST
            hour = (rng.choice(range(8, 24)) - 9) % 24
        else:  # Europe and the Americas, awake hours
            hour = rng.choice([*range(0, 5), *range(7, 12), *range(13, 24), *range(13, 18)])
        return day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))

    def add(self, post: DemoPost) -> DemoPost:
        self.posts.append(post)
        return post


def build_plan(seed: int) -> Plan:
    """The whole demo story, deterministic for a given seed."""
    planner = Planner(seed)
    ordinary = planner.intents()
    planner.rng.shuffle(ordinary)
    _assign_platforms(planner, ordinary)
    _assign_authors(planner, ordinary)
    for post in ordinary:
        post.text = fill(post.text, post.platform, post.language)
        if planner.place(post):
            planner.add(post)
    _add_campaigns(planner)
    _add_blogs_and_news(planner)
    _add_own_posts(planner)
    _add_burst(planner)
    _add_quotes(planner)
    _add_retweets(planner)
    _add_replies(planner)
    _shape_reddit(planner)
    _add_store_reviews(planner)
    _add_youtube(planner)
    _add_rival(planner, random.Random(seed * 1000 + sum(b"rival")))
    _add_won_back(planner, random.Random(seed * 1000 + sum(b"won back")))
    planner.posts.sort(key=lambda p: p.created_at)
    return Plan(planner.customers, planner.posts)


def _assign_platforms(planner: Planner, posts: list[DemoPost]) -> None:
    cafe = 0
    for post in posts:
        post.platform = planner.choose_platform(post)
        if post.platform == "naver":
            # Questions and complaints go to a cafe (at most ten: each is one recorded page), the rest to blogs.
            if post.kind in QUEUED_KINDS and cafe < 10:
                post.naver_kind, cafe = "cafearticle", cafe + 1
            elif post.kind in ("praise", "chatter"):
                post.naver_kind = "blog"
            else:
                post.platform = "x"


def _assign_authors(planner: Planner, posts: list[DemoPost]) -> None:
    """Customers' own accounts, e-mail and order mentions, fuzzy display names, then strangers."""
    rng = planner.rng
    wanted = {"handle": 55, "email": 8, "order": 10, "fuzzy_name": 6}
    done: Counter[str] = Counter()
    for post in posts:
        queued = post.kind in QUEUED_KINDS
        if post.kind == "spam" or post.naver_kind == "cafearticle":
            post.persona = planner.stranger(post.platform, post.language)
            continue
        roll = rng.random()
        if done["handle"] < wanted["handle"] and roll < 0.3:
            account = planner.customer_account(post.platform, post.language, queued)
            if account is not None:
                post.persona, post.customer, post.link_method = account, account.customer, "handle"
                done["handle"] += 1
                continue
        post.persona = planner.stranger(post.platform, post.language)
        if not queued or post.platform == "naver":
            continue
        for method in ("email", "order", "fuzzy_name"):
            if done[method] < wanted[method] and rng.random() < 0.25:
                if _evidence(planner, post, method):
                    done[method] += 1
                break


def _evidence(planner: Planner, post: DemoPost, method: str) -> bool:
    """Put a customer's e-mail, order number or name variant on an unknown author's post."""
    rng = planner.rng
    pool = [c for c in planner.customers if c.language == post.language]
    if method == "order":
        pool = [c for c in pool if c.orders]
    if method == "fuzzy_name":
        pool = [c for c in pool if post.platform not in c.handles]
    if not pool:
        return False
    customer = rng.choice(pool)
    if method == "email":
        post.text += (
            f" 계정 이메일은 {customer.email} 입니다."
            if post.language == "ko"
            else (f" My account email is {customer.email}.")
        )
    elif method == "order":
        order = rng.choice(customer.orders)
        post.text += f" 주문번호 {order}" if post.language == "ko" else f" Order {order}."
    else:
        name = customer.name
        variants = [f"{name} ☕", name.lower(), f"{name} 🌸"]
        if " " in name:
            given, family = name.split(" ", 1)
            variants.append(f"{family} {given}")
        persona = unknown_persona(rng, post.platform, post.language, planner.taken)
        persona.display_name = rng.choice(variants)
        post.persona = persona
    post.customer, post.link_method = customer.external_ref, method
    return True


def _add_campaigns(planner: Planner) -> None:
    """The copy-paste campaigns: the same complaint from several accounts over a day or two."""
    layout = {
        "billing": ["x", "x", "bluesky", "x", "mastodon", "x", "bluesky"],
        "loyalty": ["x", "x", "bluesky", "x", "x"],
    }
    for topic, platforms in layout.items():
        language, text = texts.CAMPAIGNS[topic]
        head: DemoPost | None = None
        for platform in platforms:
            kind = "complaint" if head is None else "duplicate"
            post = DemoPost(platform, kind, language, text, "negative", topic, cluster_of=head)
            post.persona = planner.stranger(platform, language)
            placed = (
                planner.place(post)
                if head is None
                else planner.place(post, after=head.created_at, within=timedelta(hours=40))
            )
            if placed:
                planner.add(post)
                head = head or post


def _add_blogs_and_news(planner: Planner) -> None:
    rng = planner.rng
    for lang, items in (("en", texts.RSS_EN), ("ko", texts.RSS_KO)):
        for kind, topic, title, body in items:
            sentiment = {"praise": "positive", "chatter": "neutral", "complaint": "negative"}[kind]
            post = DemoPost("rss", kind, lang, body, sentiment, topic, title=title)
            post.persona = planner.stranger("rss", lang)
            post.extra["feed"] = lang
            if planner.place(post):
                planner.add(post)
    for title, body in texts.NAVER_NEWS:
        post = DemoPost("naver", "chatter", "ko", body, "neutral", None, title=title, naver_kind="news")
        post.persona = planner.stranger("naver", "ko")
        post.extra["press"] = rng.choice(["biz.example.kr", "news.example.kr", "food.example.kr", "daily.example.kr"])
        if "5.2" in title:  # the app update was announced the day before the burst
            post.created_at = datetime(2026, 11, 19, 1, 20, tzinfo=UTC)
            planner.load.add(post)
            planner.add(post)
        elif planner.place(post):
            planner.add(post)


def _add_own_posts(planner: Planner) -> None:
    for text in texts.OWN["announce_en"]:
        post = DemoPost(planner.rng.choice(["x", "mastodon", "bluesky"]), "own", "en", text, None, None)
        post.persona = planner.own[post.platform]
        if planner.place(post):
            planner.add(post)
    for text in texts.OWN["announce_ko"]:
        post = DemoPost("x", "own", "ko", text, None, None, persona=planner.own["x"])
        if planner.place(post):
            planner.add(post)
    update = DemoPost("x", "own", "en", texts.OWN["update"][0], None, None, persona=planner.own["x"])
    update.created_at = datetime(2026, 11, 19, 10, 5, tzinfo=UTC)
    planner.add(update)
    for lang, minute in (("en", 50), ("ko", 58)):
        apology = DemoPost("x", "own", lang, texts.OWN[f"apology_{lang}"][0], None, None, persona=planner.own["x"])
        apology.created_at = BURST_END + timedelta(minutes=minute - 30)
        planner.add(apology)


def _add_burst(planner: Planner) -> None:
    """About fifty complaints in four hours: the app crashes after the 5.2 update."""
    rng = planner.rng
    layout = {
        "en": ["x"] * 14 + ["bluesky"] * 4 + ["mastodon"] * 3 + ["reddit"] * 3,
        "ko": ["x"] * 14 + ["bluesky"] * 4 + ["mastodon"] * 2,
    }
    minutes = (BURST_END - BURST_START).total_seconds() / 60
    for lang, platforms in layout.items():
        for index, (text, platform) in enumerate(zip(texts.BURST[lang], platforms, strict=True)):
            post = DemoPost(platform, "complaint", lang, fill(text, platform, lang), "negative", "app", in_burst=True)
            offset = min(max(rng.gauss(minutes * 0.4, minutes * 0.22), 0), minutes - 1)
            post.created_at = BURST_START + timedelta(minutes=int(offset), seconds=rng.randrange(60))
            if index == 0 and platform == "x":
                post.persona = planner.stranger(platform, lang, influencer=True)
            elif index % 6 == 3:
                account = planner.customer_account(platform, lang, queued=True)
                post.persona = account or planner.stranger(platform, lang)
                if account is not None:
                    post.customer, post.link_method = account.customer, "handle"
            else:
                post.persona = planner.stranger(platform, lang)
            planner.add(post)


def _add_quotes(planner: Planner) -> None:
    for quoted_kind, topic, lang, text in texts.QUOTES:
        originals = [
            p
            for p in planner.posts
            if p.platform == "x"
            and p.kind == quoted_kind
            and p.topic == topic
            and not p.in_burst
            and (p.language == lang or quoted_kind == "own")
        ]
        if not originals:
            continue
        original = planner.rng.choice(originals)
        kind = quoted_kind if quoted_kind != "own" else "praise"
        sentiment = {"complaint": "negative", "praise": "positive"}[kind]
        post = DemoPost("x", kind, lang, fill(text, "x", lang), sentiment, topic, quote_of=original)
        post.persona = planner.stranger("x", lang)
        if planner.place(post, after=original.created_at, within=timedelta(hours=30)):
            planner.add(post)


def _add_retweets(planner: Planner) -> None:
    """X retweets: they carry "RT @author: text" and join their original's cluster."""
    rng = planner.rng
    plain = [p for p in planner.posts if p.platform == "x" and not p.in_burst and p.quote_of is None]
    picks = (
        rng.sample([p for p in plain if p.kind == "complaint"], 7)
        + rng.sample([p for p in plain if p.kind == "praise"], 2)
        + rng.sample([p for p in plain if p.kind == "own" and p.created_at < BURST_START], 3)
    )
    for original in picks:
        post = _retweet(planner, original)
        if planner.place(post, after=original.created_at, within=timedelta(hours=20)):
            planner.add(post)
    burst = [p for p in planner.posts if p.platform == "x" and p.in_burst]
    viral = [max((p for p in burst if p.language == lang), key=lambda p: author(p).followers) for lang in ("en", "ko")]
    for original, count in zip(viral, (4, 2), strict=True):
        for _ in range(count):
            post = _retweet(planner, original)
            post.in_burst = True
            post.created_at = min(original.created_at + timedelta(minutes=rng.randint(3, 90)), BURST_END)
            planner.add(post)


def _retweet(planner: Planner, original: DemoPost) -> DemoPost:
    text = f"RT @{author(original).handle}: {original.text}"
    if len(text) > 140:
        text = text[:139].rstrip() + "…"
    post = DemoPost("x", "retweet", original.language, text, original.sentiment, original.topic, cluster_of=original)
    post.persona = planner.stranger("x", original.language)
    return post


def _add_replies(planner: Planner) -> None:
    """The brand answers a few complaints on X, Mastodon, Bluesky and Reddit."""
    rng = planner.rng
    for platform, count in (("x", 4), ("mastodon", 1), ("bluesky", 1), ("reddit", 1)):
        targets = [
            p
            for p in planner.posts
            if p.platform == platform
            and p.kind == "complaint"
            and not p.in_burst
            and p.cluster_of is None
            and p.persona is not None
            and p.persona.customer is None
        ]
        for target in rng.sample(targets, min(count, len(targets))):
            options = texts.OWN["reply_ko"] if target.language == "ko" else texts.OWN["reply_en"]
            text = rng.choice(options).replace("{user}", author(target).handle.split("@")[0])
            if platform == "reddit":
                text = text.split(" ", 1)[1]
            post = DemoPost(platform, "own", target.language, text, None, None, reply_to=target)
            post.persona = planner.own[platform]
            post.created_at = target.created_at + timedelta(minutes=rng.randint(20, 180))
            if post.created_at < END:
                planner.add(post)


def _shape_reddit(planner: Planner) -> None:
    """Reddit: questions and most complaints start threads; other posts are comments on recent threads."""
    rng = planner.rng
    threads: list[DemoPost] = []
    for post in sorted((p for p in planner.posts if p.platform == "reddit"), key=lambda p: p.created_at):
        post.subreddit = "coffee" if post.kind in ("praise", "chatter") else rng.choice(["coffee", "korea", "seoul"])
        if post.reply_to is not None:
            post.reddit_kind, post.subreddit = "t1", post.reply_to.subreddit
            continue
        recent = [t for t in threads if timedelta(0) < post.created_at - t.created_at < timedelta(days=4)]
        if post.in_burst:
            recent = [t for t in recent if t.in_burst]
        if recent and post.kind != "question" and rng.random() < (0.9 if post.in_burst else 0.4):
            parent = rng.choice(recent)
            post.reddit_kind, post.reply_to, post.subreddit = "t1", parent, parent.subreddit
            continue
        post.reddit_kind = "t3"
        post.title, body = _split_title(post.text)
        post.text = body
        threads.append(post)


def _split_title(text: str) -> tuple[str, str]:
    """A Reddit title is the first sentence; the rest is the self text."""
    for mark in (". ", "? ", "! "):
        head, sep, rest = text.partition(mark)
        if sep and len(head) > 20:
            return head + mark.strip(), rest
    return text, ""


def _review(store: str, lang: str, kind: str, topic: str | None, title: str, text: str, stars: int) -> DemoPost:
    sentiment = {"complaint": "negative", "praise": "positive", "chatter": "neutral"}[kind]
    return DemoPost(store, kind, lang, text, sentiment, topic, title=title, rating=stars)


def _add_store_reviews(planner: Planner) -> None:
    """Maru Coffee's app on the App Store (kr) and Google Play (ko/kr): 5.1.2 reviews before the 5.2
    update, 5.2.0 after it with its login bug; the developer answers a few on Google Play; one App
    Store review is edited. Each text is used once."""
    app = texts.STORE_APP
    praise, complaint, login, chatter = app["praise"], app["complaint"], app["login"], app["chatter"]
    layout: dict[str, list[tuple[DemoPost, int]]] = {"appstore": [], "googleplay": []}  # (review, version index)
    for i, (title, text, stars) in enumerate(praise["ko"]):
        store = "appstore" if i < 6 else "googleplay"
        layout[store].append((_review(store, "ko", "praise", None, title, text, stars), int(i == 9)))
    for title, text, stars in praise["en"]:
        layout["appstore"].append((_review("appstore", "en", "praise", None, title, text, stars), 0))
    for topic, title, text, stars in complaint["ko"]:
        store = "appstore" if topic in ("billing", "delivery") else "googleplay"
        layout[store].append((_review(store, "ko", "complaint", topic, title, text, stars), 0))
    for topic, title, text, stars in complaint["en"]:
        layout["appstore"].append((_review("appstore", "en", "complaint", topic, title, text, stars), 0))
    for i, (title, text, stars) in enumerate(login["ko"]):
        store = "appstore" if i < 4 else "googleplay"
        layout[store].append((_review(store, "ko", "complaint", "app", title, text, stars), 1))
    for title, text, stars in login["en"]:
        layout["appstore"].append((_review("appstore", "en", "complaint", "app", title, text, stars), 1))
    for i, (title, text, stars) in enumerate(chatter["ko"]):
        store = "appstore" if i == 0 else "googleplay"
        layout[store].append((_review(store, "ko", "chatter", None, title, text, stars), 0))
    for store, reviews in layout.items():
        for post, version in reviews:
            post.app_version = VERSIONS[version]
            post.persona = planner.stranger(store, post.language)
            after, until = (RELEASE, END) if version else (START, RELEASE)
            if planner.place(post, after=after, within=until - after - timedelta(minutes=1)):
                planner.add(post)
    _edited_review(planner)
    _developer_answers(planner)


def _edited_review(planner: Planner) -> None:
    """A stamps complaint on the App Store, edited to four stars once support restored the stamps."""
    (topic, title, text, stars), (_, new_title, new_text, new_stars) = texts.STORE_EDIT
    post = _review("appstore", "ko", "praise", None, new_title, new_text, new_stars)
    post.before_edit, post.app_version = (title, text, stars), VERSIONS[0]
    post.persona = planner.stranger("appstore", "ko")
    # Placed as the complaint it first was (its time is the first one read); edited days later.
    first = DemoPost("appstore", "complaint", "ko", text, "negative", topic)
    if planner.place(first, after=START, within=EDIT_AFTER - START - timedelta(days=2)):
        post.created_at = first.created_at
        post.edited_at = EDIT_AFTER + timedelta(days=4, hours=planner.rng.randint(1, 20))
        planner.add(post)


def _developer_answers(planner: Planner) -> None:
    """The developer answers two Google Play complaints from before the update and one login report."""
    complaints = [p for p in planner.posts if p.platform == "googleplay" and p.kind == "complaint"]
    older = [p for p in complaints if p.app_version == VERSIONS[0]]
    newer = [p for p in complaints if p.app_version == VERSIONS[1]]
    for target, text in zip(older[:2] + newer[:1], texts.STORE_REPLIES, strict=False):
        answer = DemoPost("googleplay", "own", "ko", text, None, None, reply_to=target)
        answer.persona = planner.own["googleplay"]
        if planner.place(answer, after=target.created_at, within=timedelta(hours=20)):
            target.answered = True
            planner.add(answer)


def _add_youtube(planner: Planner) -> None:
    """Comment threads under the brand channel's winter-menu video; the channel answers two questions."""
    for lang, comments in texts.YOUTUBE_COMMENTS.items():
        for kind, topic, text in comments:
            sentiment = {"complaint": "negative", "praise": "positive", "question": "neutral", "chatter": "neutral"}
            post = DemoPost("youtube", kind, lang, text, sentiment[kind], topic)
            post.persona = planner.stranger("youtube", lang)
            if planner.place(post, after=VIDEO_AT, within=END - VIDEO_AT - timedelta(days=1)):
                planner.add(post)
    for lang in ("ko", "en"):
        questions = [p for p in planner.posts if (p.platform, p.kind, p.language) == ("youtube", "question", lang)]
        if not questions:
            continue
        target = questions[0]
        answer = DemoPost("youtube", "own", lang, texts.YOUTUBE_REPLIES[lang], None, None, reply_to=target)
        answer.persona = planner.own["youtube"]
        if planner.place(answer, after=target.created_at, within=timedelta(hours=12)):
            planner.add(answer)


def rival_name(platform: str, language: str) -> str:
    if language == "ko":
        return "별빛커피"
    return "@byeolcoffee" if platform == "x" else "Byeol Coffee"


def _add_rival(planner: Planner, rng: random.Random) -> None:
    """Posts about the rival Byeol Coffee on X, in both languages, over the whole month: complaints
    on four topics, praise and chatter. Drawn from their own generator, so every other post of the
    plan is as it was. Two are by customers of Maru Coffee whose X accounts post nothing else: the
    demo shows that a competitor mention never links its author to a customer."""
    made: list[DemoPost] = []
    for topic, by_lang in texts.RIVAL_COMPLAINTS.items():
        for lang, cores in by_lang.items():
            made += [DemoPost("x", "complaint", lang, core, "negative", topic) for core in cores]
    for lang, cores in texts.RIVAL_PRAISE.items():
        made += [DemoPost("x", "praise", lang, core, "positive", None) for core in cores]
    for lang, cores in texts.RIVAL_CHATTER.items():
        made += [DemoPost("x", "chatter", lang, core, "neutral", None) for core in cores]
    posting = {p.persona.key for p in planner.posts if p.persona is not None}
    silent = [p for p in planner.known if p.platform == "x" and p.key not in posting]
    quiet = {lang: [p for p in silent if p.language == lang][:1] for lang in ("en", "ko")}
    span = int((RIVAL_LAST - START).total_seconds())
    for post in made:
        post.brand = RIVAL_BRAND
        # Byeol's handle in English half the time, its name otherwise ("@byeolcoffee" / "Byeol Coffee").
        name = rival_name("x" if rng.random() < 0.5 else "", post.language)
        post.text = post.text.replace("{rival}", name)
        while True:
            moment = START + timedelta(seconds=rng.randrange(span))
            if not BURST_START - timedelta(hours=1) <= moment <= BURST_END + timedelta(hours=1):
                break
        post.created_at = moment
        if post.kind == "complaint" and quiet[post.language]:
            post.persona = quiet[post.language].pop(0)
            post.customer = post.persona.customer  # who it is; never linked (no link_method)
        else:
            post.persona = unknown_persona(rng, "x", post.language, planner.taken)
        planner.add(post)


def _add_won_back(planner: Planner, rng: random.Random) -> None:
    """Two customers won back on X, one in each language: the brand answers a complaint of theirs
    and a day or two later they post that it was put right (the "Won back" segment's story). Drawn
    from their own generator after every other post, so the rest of the plan is as it was."""
    for lang in ("en", "ko"):
        targets = [
            p
            for p in planner.posts
            if (p.platform, p.kind, p.language, p.link_method) == ("x", "complaint", lang, "handle")
            and p.cluster_of is None
            and not p.in_burst
            and p.created_at < END - timedelta(days=5)
        ]
        if not targets:
            continue
        target = rng.choice(targets)
        options = texts.OWN["reply_ko"] if lang == "ko" else texts.OWN["reply_en"]
        reply = rng.choice(options).replace("{user}", author(target).handle)
        answer = DemoPost("x", "own", lang, reply, None, None, reply_to=target)
        answer.persona = planner.own["x"]
        answer.created_at = target.created_at + timedelta(minutes=rng.randint(20, 180))
        thanks = DemoPost("x", "praise", lang, fill(texts.WON_BACK[lang], "x", lang), "positive", None)
        thanks.persona, thanks.customer, thanks.link_method = target.persona, target.customer, "handle"
        thanks.created_at = answer.created_at + timedelta(days=rng.randint(1, 2), minutes=rng.randint(0, 600))
        for post in (answer, thanks):
            planner.load.add(post)
            planner.add(post)
