"""Boilerplate rules: what real pages carry is dropped, content is kept."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from glossnorm.boilerplate import BoilerplateRules
from glossnorm.clean import clean_text
from glossnorm.errors import InputError
from glossnorm.segment import split_segments

RULES = BoilerplateRules.load()
SEEDS = Path("/work/shared/seeds")

BOILERPLATE = [
    ("tweet_attribution", "— NHKニュース (@nhk_news) 2022年1月26日"),
    ("tweet_attribution", "— The Economist (@TheEconomist) January 26, 2022"),
    ("pic_twitter", "pic.twitter.com/AbC123xyz"),
    ("url_only", "https://example.com/news/2022/01/26/article.html"),
    ("url_only", "http://blog.example.jp https://t.co/abc"),
    ("bare_domain", "example.hatenadiary.jp"),
    ("byline_date", "By | January 22, 2022"),
    ("byline_date", "By admin | 2022年1月22日"),
    ("hashtags_only", "#反ロシア#対中露戦"),
    ("hashtags_only", "#NATOexpansion"),
    ("source_link", "Source link"),
    ("leave_reply", "Leave a Reply"),
    ("email_not_published", "Your email address will not be published."),
    (
        "email_not_published",
        "Your email address will not be published. Required fields are marked *",
    ),
    ("required_fields", "Required fields are marked *"),
    ("comment_form", "Comment *"),
    (
        "comment_form",
        "Save my name, email, and website in this browser for the next time I comment.",
    ),
    ("share", "シェア"),
    ("share", "ツイート"),
    ("share", "Share this:"),
    ("share", "Facebook Twitter LINE"),
    ("related", "関連記事"),
    ("related", "あわせて読みたい"),
    ("related", "この記事を読んだ人はこんな記事も読んでいます"),
    ("related", "Related posts:"),
    ("copyright", "© 2022 Example News. All rights reserved."),
    ("copyright", "Copyright (c) Example Inc."),
    ("read_more", "続きを読む"),
    ("photo_credit", "写真:ロイター"),
    ("photo_credit", "Photo by Jane Doe on Unsplash"),
]

CONTENT = [
    "米国務長官「外交の道筋」を明示 https://t.co/AbCdEf1234",  # tweet text + link: content
    "映像は1月9、10日撮影。 pic.twitter.com/AbC123xyz",
    "What happens next is unclear https://t.co/AbCdEf1234",
    "ロシア外務省はこの日、声明を発表した。",
    "外相会談の結果をシェアする動きが広がった。",
    "関連記事によると、会談は来週も続く見通しだ。",
    "#MeToo運動について、政府は見解を示した。",
    "NATO",
    "By the end of January, talks had stalled.",
]


@pytest.mark.parametrize(("rule", "line"), BOILERPLATE)
def test_boilerplate_lines_are_dropped(rule: str, line: str) -> None:
    assert RULES.match(clean_text(line).text) == rule


@pytest.mark.parametrize("line", CONTENT)
def test_content_is_kept(line: str) -> None:
    assert RULES.match(clean_text(line).text) is None


def test_user_rules_extend_and_remove(tmp_path: Path) -> None:
    path = tmp_path / "mine.rules"
    path.write_text("# my site\nsite_footer  このブログについて.*\n-share\n", encoding="utf-8")
    rules = BoilerplateRules.load([path])
    assert rules.match("このブログについて(管理人)") == "site_footer"
    assert rules.match("シェア") is None
    assert "share" not in rules.names and "site_footer" in rules.names


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("bad_regex  (unclosed\n", r"mine\.rules:1: invalid regular expression"),
        ("# ok\nonly_a_name\n", r"mine\.rules:2: expected 'NAME REGEX'"),
        ("Bad-Name  x\n", r"mine\.rules:1: rule name must be"),
        ("empty  .*\n", r"mine\.rules:1: rule 'empty' matches an empty line"),
    ],
)
def test_invalid_user_rules_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "mine.rules"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        BoilerplateRules.load([path])


def test_missing_user_rules_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        BoilerplateRules.load([tmp_path / "nope.rules"])


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents not available")
def test_seed_boilerplate_is_dropped() -> None:
    counts: Counter[str] = Counter()
    kept: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        for seg in split_segments(path.name, clean_text(path.read_text(encoding="utf-8")).text):
            rule = RULES.match(seg.text)
            if rule:
                counts[rule] += 1
            else:
                kept.append(seg.text)
    assert counts["tweet_attribution"] >= 8
    assert counts["source_link"] == counts["leave_reply"] == counts["email_not_published"] == 1
    assert counts["byline_date"] == 1 and counts["bare_domain"] >= 2 and counts["url_only"] >= 2
    assert counts["hashtags_only"] >= 4
    assert not any(line.startswith("— ") and "(@" in line for line in kept)
    assert sum(counts.values()) < 0.2 * (sum(counts.values()) + len(kept))


def test_combined_rules_agree_with_rule_by_rule() -> None:
    import dataclasses

    from glossnorm.boilerplate import BoilerplateRules

    rules = BoilerplateRules.load()
    assert rules.combined is not None
    one_by_one = dataclasses.replace(rules, combined=None)
    object.__setattr__(one_by_one, "combined", None)
    lines = [
        "Source link", "— NHKニュース (@nhk_news) 2022年1月26日", "https://t.co/abc",
        "ロシアは撤退を要求した。", "#反ロシア#対中露戦", "シェア", "Leave a Reply", "LINE",
        "関連記事: ロシア外相が会見", "© 2022 Example News", "d1021.hatenadiary.jp", "",
        "米国務長官は26日、記者団に対し述べた https://t.co/xyz",
    ]
    for line in lines:
        expected = next((r.name for r in rules.rules if r.pattern.fullmatch(line.strip())), None)
        assert rules.match(line) == expected, line
        assert one_by_one.match(line) == expected, line
