"""Demo data for the fictional coffee chain Maru Coffee (마루커피), in real API payload shapes.

`<platform>/page-NNNN.json` (`.xml` for RSS) are recorded-style API response bodies that the
demo's replay sources feed through the real parsers; `customers.csv` is the brand's CRM export;
`expectations.json` says what each post is meant to be. All are written by
`python -m bench.demo_data.generate` (deterministic, a development tool outside the runtime
package) and committed; this package holds the data and the paths to it only.
"""

from pathlib import Path

DEMO_DATA = Path(__file__).parent
EXPECTATIONS = DEMO_DATA / "expectations.json"
CUSTOMERS = DEMO_DATA / "customers.csv"
# One folder of pages per platform, in this order (the generator writes them, readers walk them).
PLATFORM_DIRS = ("x", "reddit", "mastodon", "bluesky", "rss", "naver", "appstore", "googleplay", "youtube")
# Folders of pages about a competitor ([brands] in config.toml), folder → platform: the rival
# Byeol Coffee's X search, replayed by the demo_byeol_x source.
BRAND_DIRS: dict[str, str] = {"x_byeol": "x"}
# What the demo's replay sources pass their platform's parser (config.toml's `parser_options`): the
# Google Play app, stream and the developer's handle, which a recorded reviews list does not carry.
PARSER_OPTIONS: dict[str, dict[str, str]] = {
    "googleplay": {"app_id": "com.maru.coffee", "lang": "ko", "country": "kr", "developer": "marucoffee"},
}
