"""The demo's people: the brand's customers (its CRM export) and the social accounts that post.

A `Persona` is one account on one platform. Customers' own accounts carry `customer` (their
external_ref); everyone else is an unknown author whose display name is deliberately unlike any
customer's name, so the only links are the intended ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "naver")
# (name as in the CRM, romanized given-name/family-name for handles and e-mail, language)
CUSTOMER_NAMES = [
    ("김민지", "minji", "kim", "ko"),
    ("이서준", "seojun", "lee", "ko"),
    ("박지연", "jiyeon", "park", "ko"),
    ("최유진", "yujin", "choi", "ko"),
    ("정하은", "haeun", "jung", "ko"),
    ("강도윤", "doyun", "kang", "ko"),
    ("조수빈", "subin", "cho", "ko"),
    ("윤지호", "jiho", "yoon", "ko"),
    ("장예린", "yerin", "jang", "ko"),
    ("임태현", "taehyun", "lim", "ko"),
    ("한소희", "sohee", "han", "ko"),
    ("오준서", "junseo", "oh", "ko"),
    ("서지우", "jiwoo", "seo", "ko"),
    ("신다은", "daeun", "shin", "ko"),
    ("권민재", "minjae", "kwon", "ko"),
    ("황보람", "boram", "hwang", "ko"),
    ("안세영", "seyoung", "ahn", "ko"),
    ("송현우", "hyunwoo", "song", "ko"),
    ("전유나", "yuna", "jeon", "ko"),
    ("홍승민", "seungmin", "hong", "ko"),
    ("고은비", "eunbi", "ko", "ko"),
    ("문재원", "jaewon", "moon", "ko"),
    ("양하린", "harin", "yang", "ko"),
    ("배성호", "sungho", "bae", "ko"),
    ("백지민", "jimin", "baek", "ko"),
    ("Kim Hyunjoo", "hyunjoo", "kim", "en"),
    ("Lee Dongwook", "dongwook", "lee", "en"),
    ("Park Soyeon", "soyeon", "park", "en"),
    ("Choi Jaehyun", "jaehyun", "choi", "en"),
    ("Jung Minseo", "minseo", "jung", "en"),
    ("Kang Yerim", "yerim", "kang", "en"),
    ("Yoon Sungmin", "sungmin", "yoon", "en"),
    ("Cho Areum", "areum", "cho", "en"),
    ("Lim Jiwon", "jiwon", "lim", "en"),
    ("Han Seojin", "seojin", "han", "en"),
    ("Emily Carter", "emily", "carter", "en"),
    ("James Whitfield", "james", "whitfield", "en"),
    ("Olivia Bennett", "olivia", "bennett", "en"),
    ("Daniel Okafor", "daniel", "okafor", "en"),
    ("Sophie Laurent", "sophie", "laurent", "en"),
    ("Marcus Reyes", "marcus", "reyes", "en"),
    ("Hannah Schultz", "hannah", "schultz", "en"),
    ("Ethan Brooks", "ethan", "brooks", "en"),
    ("Chloe Nakamura", "chloe", "nakamura", "en"),
    ("Liam O'Connor", "liam", "oconnor", "en"),
    ("Ava Thompson", "ava", "thompson", "en"),
    ("Noah Fitzgerald", "noah", "fitzgerald", "en"),
    ("Grace Liu", "grace", "liu", "en"),
    ("Ryan Patel", "ryan", "patel", "en"),
    ("Isabella Moreno", "isabella", "moreno", "en"),
    ("Lucas Weber", "lucas", "weber", "en"),
    ("Mia Andersson", "mia", "andersson", "en"),
    ("Benjamin Hart", "benjamin", "hart", "en"),
    ("Zoe Campbell", "zoe", "campbell", "en"),
    ("Samuel Adeyemi", "samuel", "adeyemi", "en"),
    ("Priya Raman", "priya", "raman", "en"),
    ("Oliver Grant", "oliver", "grant", "en"),
    ("Harper Lindqvist", "harper", "lindqvist", "en"),
    ("Jack Donnelly", "jack", "donnelly", "en"),
    ("Ella Svensson", "ella", "svensson", "en"),
]
# How likely a customer is to have an account on each platform, by language.
HANDLE_ODDS = {
    "ko": {"x": 0.5, "reddit": 0.0, "mastodon": 0.1, "bluesky": 0.25, "naver": 0.5},
    "en": {"x": 0.6, "reddit": 0.4, "mastodon": 0.35, "bluesky": 0.45, "naver": 0.0},
}
KOREAN_FAMILIES = {"kim", "lee", "park", "choi", "jung", "kang", "yoon", "cho", "lim", "han"}
MASTODON_HOME = "mastodon.social"
MASTODON_REMOTE = ["fosstodon.org", "hachyderm.io", "mstdn.social", "planet.moe", "qdon.space"]
# Unknown authors: nicknames and first-name-plus-initial display names unlike any customer.
UNKNOWN_EN = [
    "coffee_ninja",
    "Seoul Eats",
    "Tom R.",
    "beanthere",
    "Kat 🌿",
    "espresso_owl",
    "Rob from Busan",
    "Mina's Mum",
    "dev_on_decaf",
    "Sunny Days",
    "latte lover",
    "Marco P.",
    "the night shift",
    "Wanderlust Jo",
    "Hyejin ☕",
    "Pat M.",
    "grumpy commuter",
    "Ines V.",
    "Ken T.",
    "bookworm_bea",
    "Dylan K.",
    "Rachel W.",
    "Yusuf A.",
    "Lena H.",
    "Jonas",
    "Sam the runner",
    "Chris B.",
    "Nadia",
    "Felix",
    "Tara",
    "Owen G.",
    "Maya",
    "Leo",
    "Ruth",
    "Iris N.",
    "Theo",
    "Nina",
    "Max",
    "Ana",
    "Ben",
    "Eva",
    "Ray",
    "Kai",
    "Ivy",
    "Gus",
    "Lou",
]
UNKNOWN_KO = [
    "라떼덕후",
    "커피러버",
    "서울댁",
    "아침형인간",
    "퇴근하고싶다",
    "민트초코",
    "고양이집사",
    "여행가는길",
    "빵순이",
    "개발자 K",
    "카페투어",
    "오늘도출근",
    "소소한일상",
    "달빛산책",
    "제주살이",
    "책읽는밤",
    "주말농장",
    "운동하는직장인",
    "초보엄마",
    "대학원생",
    "한강러버",
    "디저트탐험",
    "새벽감성",
    "출근길",
    "동네주민",
    "커피한잔",
    "구름빵",
    "쿼카",
]


@dataclass
class Persona:
    """One account on one platform."""

    key: str
    platform: str
    handle: str
    display_name: str
    language: str
    followers: int
    bio: str = ""
    customer: str | None = None
    platform_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Customer:
    """One row of customers.csv."""

    external_ref: str
    name: str
    romanized: tuple[str, str]
    language: str
    email: str
    phone: str
    tier: str
    handles: dict[str, str]
    orders: list[str]


def make_customers(rng: random.Random) -> list[Customer]:
    """The CRM export: every customer with e-mail, phone, tier, handles and order numbers."""
    customers = []
    used_orders: set[int] = set()
    for index, (name, given, family, language) in enumerate(CUSTOMER_NAMES, start=1):
        domain = "example.kr" if language == "ko" or family in KOREAN_FAMILIES else "example.com"
        email = f"{given}.{family}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{domain}"
        phone = (
            f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}"
            if domain == "example.kr"
            else (f"+1-555-01{rng.randint(0, 99):02d}")
        )
        tier = rng.choices(["standard", "gold", "vip"], weights=[70, 20, 10])[0]
        handles = {
            p: _handle(rng, p, given, family) for p, odds in HANDLE_ODDS[language].items() if rng.random() < odds
        }
        orders = []
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            number = rng.randint(10000, 19999)
            while number in used_orders:
                number = rng.randint(10000, 19999)
            used_orders.add(number)
            orders.append(f"MC-2026-{number}")
        customers.append(
            Customer(f"CUST-{index:04d}", name, (given, family), language, email, phone, tier, handles, orders)
        )
    return customers


def _handle(rng: random.Random, platform: str, given: str, family: str) -> str:
    style = rng.choice(["{g}_{f}", "{g}{f}", "{f}{g}", "{g}.sips", "{g}_coffee", "{g}{n}"])
    base = style.format(g=given, f=family, n=rng.randint(7, 99)).replace(".", "_")
    if platform == "bluesky":
        return f"{base.replace('_', '')}.bsky.social"
    if platform == "mastodon":
        return f"{base}@{rng.choice(MASTODON_REMOTE)}"
    return base


def customer_personas(customers: list[Customer], rng: random.Random) -> list[Persona]:
    """Each customer's accounts, displayed under their own name (how customers usually appear)."""
    personas = []
    for c in customers:
        for platform, handle in c.handles.items():
            display = c.name if platform != "reddit" else ""
            personas.append(
                Persona(
                    key=f"{platform}:{handle}",
                    platform=platform,
                    handle=handle,
                    display_name=display,
                    language=c.language,
                    followers=_followers(rng),
                    customer=c.external_ref,
                )
            )
    return personas


def unknown_persona(
    rng: random.Random, platform: str, language: str, taken: set[str], influencer: bool = False
) -> Persona:
    """A new account that is no customer, with a handle not used before on that platform."""
    names = UNKNOWN_KO if language == "ko" else UNKNOWN_EN
    display = rng.choice(names)
    while True:
        stem = rng.choice(["cafe", "bean", "brew", "sip", "roast", "mug", "daily", "seoul", "city", "note"])
        suffix = rng.choice(["walker", "fan", "diary", "days", "log", "life", "bird", "ster"])
        handle = f"{stem}_{suffix}{rng.randint(1, 999)}"
        if platform == "bluesky":
            handle = f"{handle.replace('_', '')}.bsky.social"
        elif platform == "mastodon":
            home = rng.choice([MASTODON_HOME, MASTODON_HOME, *MASTODON_REMOTE])
            handle = handle if home == MASTODON_HOME else f"{handle}@{home}"
        elif platform == "naver":
            handle = handle.replace("_", "")
        if f"{platform}:{handle}" not in taken:
            break
    taken.add(f"{platform}:{handle}")
    followers = rng.randint(60000, 140000) if influencer else _followers(rng)
    return Persona(f"{platform}:{handle}", platform, handle, display, language, followers)


def _followers(rng: random.Random) -> int:
    return int(min(40000, rng.lognormvariate(5.5, 1.2)))
