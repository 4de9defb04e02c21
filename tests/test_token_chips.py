"""The tokenizers tab's HTML: typed HTML stays text, every chip carries its id, and the worst input stays small."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from components.token_chips import cards_html, flags_html
from services.config import ConfiguredModel
from services.tokenizers_compare import MANY_PIECES, compare

TINY = ("attention", "zero_shot", "generation", "translation_fr")
PAYLOAD = "<img src=x onerror=alert(1)> <script>alert(2)</script> \"quoted\" 'single' & <b>bold</b> 🤗"
# The only markup the builders write; anything else would have come from the visitor's text.
OURS = {"div", "span", "small", "p", "b", "code", "q", "ul", "li", "h3", "i"}


class Markup(HTMLParser):
    """Every tag and attribute in a piece of HTML, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parsed(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    return markup


@pytest.fixture(scope="module")
def tiny(tiny_models) -> list[ConfiguredModel]:
    return [ConfiguredModel(str(tiny_models[name]), (name,)) for name in TINY]


def test_typed_html_stays_text_in_chips_flags_and_decode(tiny):
    comparison = compare(PAYLOAD, tiny, max_tokens=512)
    for html in (cards_html(comparison), flags_html(comparison, many=MANY_PIECES)):
        markup = parsed(html)
        assert {tag for tag, _ in markup.tags} <= OURS
        assert all(set(attrs) <= {"class", "title"} for _, attrs in markup.tags)  # no onerror=, no src=
        assert "<script" not in html and "<img" not in html
    text = "".join(parsed(cards_html(comparison)).text)
    assert "<script>alert(2)</script>" in text  # shown as the text it is, in the decoded line


def test_each_chip_shows_the_readable_piece_the_raw_piece_and_its_id_on_hover(tiny):
    comparison = compare("unbelievable naïve", tiny, max_tokens=512)
    markup = parsed(cards_html(comparison))
    chips = [attrs for tag, attrs in markup.tags if tag == "span" and "tok" in (attrs.get("class") or "").split()]
    assert len(chips) == sum(t.count for t in comparison.tokenizers)
    pairs = [(i, token) for t in comparison.tokenizers for i, token in zip(t.ids, t.tokens, strict=True)]
    expected = [f"id {i} · piece {token!r}" for i, token in pairs]
    assert [chip["title"] for chip in chips] == expected
    html = cards_html(comparison)
    assert "<small>Ġ" in html and "<small>▁" in html and "<small>##" in html  # the markers stay visible
    specials = [c for c in chips if "tok-special" in c["class"]]
    assert len(specials) == sum(len(t.added) for t in comparison.tokenizers)


def test_flags_name_the_words_and_the_unknown_tokens(tiny):
    comparison = compare("unbelievable 🤗", tiny, max_tokens=512)
    text = " ".join(parsed(flags_html(comparison, many=MANY_PIECES)).text)
    assert "The same word, cut differently." in text and "unbelievable" in text
    assert "Unknown tokens." in text and "[UNK]" in text
    assert f"Words of {MANY_PIECES} pieces or more." in text


def test_a_text_every_tokenizer_cuts_alike_says_so(tiny):
    comparison = compare("7", tiny[:1], max_tokens=512)
    assert "Every tokenizer cuts every word of this text the same way" in flags_html(comparison, many=MANY_PIECES)


@pytest.mark.parametrize(
    "text",
    ["🤗" * 10_000, "x." * 5_000, ("Grüße 5€ こんにちは <b>x</b> " * 500)[:10_000]],
    ids=["emoji: four bytes each", "a piece per character", "mixed scripts and HTML"],
)
def test_the_largest_texts_answer_in_under_a_megabyte(tiny_models, text):
    """At the 10,000-character limit, through eight tokenizers as the default configuration has: only the first
    512 tokens of each are drawn and listed, and a flagged word shows its first pieces."""
    names = ("sentiment", "attention", "zero_shot", "generation", *["translation_fr", "translation_de"] * 2)
    eight = [ConfiguredModel(str(tiny_models[name]), (f"{name} {i}",)) for i, name in enumerate(names)]
    comparison = compare(text, eight, max_tokens=512)
    flags, cards, raw = flags_html(comparison, many=MANY_PIECES), cards_html(comparison), comparison.as_raw_output()
    assert len(json.dumps([flags, cards, raw], ensure_ascii=False).encode()) < 1_000_000
    assert all(len(entry["tokens"]) <= 512 for entry in raw) and any(entry["truncated"] for entry in raw)
    assert f"Showing the first 512 of {max(t.count for t in comparison.tokenizers):,} tokens." in cards


def test_a_word_of_many_pieces_shows_its_first_pieces_and_their_number(tiny):
    comparison = compare("🤗" * 50, tiny, max_tokens=512)
    assert "🤗 (4/4) | … (200 pieces)" in flags_html(comparison, many=MANY_PIECES)
