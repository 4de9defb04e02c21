"""Links that open a view: a query string parsed against the tabs' declarations, and explorer settings
applied to the run they describe. No model and no server: the app's own declarations, and synthetic runs.

Every lesson's link is followed through the same parsing the page load uses (`parse_link` with the tabs the
app declares); tests/test_links_app.py opens them against the launched app and in a browser.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

from components.explorer.view import View, parse_view
from components.lessons_tab import LESSONS, lessons_html
from components.links.query import (
    MAX_VALUE_CHARS,
    SETTINGS,
    Field,
    TabLinks,
    link_query,
    parse_link,
)
from components.links.restore import ORDER, restore_view, view_settings
from services.attention_maps import AttentionMaps, Step
from services.errors import InputError
from services.tokens import TokenAxis

TRANSLATION = TabLinks(
    key="translation",
    name="Translation · encoder-decoder",
    fields=(
        Field("text"),
        Field("target_language", "choice", choices=(("French", "French"), ("German", "German"))),
        Field("num_beams", "number", minimum=1, maximum=4, whole=True),
    ),
    explorers=("", "encoder_"),
)
GENERATION = TabLinks(
    key="generation",
    name="Generation · decoder-only",
    fields=(
        Field("prompt"),
        Field("do_sample", "switch"),
        Field("temperature", "number", minimum=0.05, maximum=2.0),
    ),
    explorers=("",),
)
LESSONS_TAB = TabLinks(key="lessons", name="Lessons")
TABS = (LESSONS_TAB, TRANSLATION, GENERATION)


def query(text: str) -> dict[str, str]:
    """The page's query parameters as Gradio hands them to the load (the last of a repeated name wins)."""
    return dict(parse_qsl(text.lstrip("?"), keep_blank_values=True))


def test_the_issues_example_opens_translation_filled_and_runs():
    link = parse_link(query("?tab=translation&text=You+like+this+house&target_language=French&run=1"), TABS)
    assert link.tab == "translation"
    assert link.inputs == {"text": "You like this house", "target_language": "French"}
    assert link.run is True
    assert link.problems == ()


def test_a_plain_visit_is_no_link_and_gradios_own_parameters_are_left_to_gradio():
    assert parse_link({}, TABS) is None
    assert parse_link(query("?__theme=dark&deep_link=abc"), TABS) is None


def test_values_take_their_controls_types():
    link = parse_link(query("?tab=generation&prompt=Hi&do_sample=yes&temperature=0.7&layer=2&run=true"), TABS)
    assert link.inputs == {"prompt": "Hi", "do_sample": True, "temperature": 0.7}
    assert link.settings == {"layer": "2"}
    link = parse_link(query("?tab=translation&text=a&num_beams=3&merge_words=1&encoder_hide_special=off&run=1"), TABS)
    assert link.inputs["num_beams"] == 3 and isinstance(link.inputs["num_beams"], int)
    assert link.settings == {"merge_words": True, "encoder_hide_special": False}


def test_an_unknown_tab_names_the_valid_tabs():
    link = parse_link(query("?tab=summarization&text=x&run=1"), TABS)
    assert link.tab is None
    (problem,) = link.problems
    assert "'summarization'" in problem
    assert "lessons, translation, generation" in problem
    missing = parse_link(query("?text=x"), TABS)
    assert missing.tab is None and "names no tab" in missing.problems[0]


@pytest.mark.parametrize(
    ("param", "says"),
    [
        ("num_beams=abc", "num_beams must be a number, not 'abc'"),
        ("num_beams=9", "num_beams must be from 1 to 4, not '9'"),
        ("num_beams=2.5", "num_beams must be a whole number from 1 to 4"),
        ("target_language=Klingon", "target_language must be one of: French, German; not 'Klingon'"),
        ("run=maybe", "A switch is 1 or 0"),
        ("merge_words=2", "A switch is 1 or 0"),
        ("colour=red", "takes no parameter 'colour'; it takes text, target_language, num_beams"),
    ],
)
def test_a_bad_parameter_is_named_and_the_rest_of_the_link_applies(param, says):
    link = parse_link(query(f"?tab=translation&text=Hello+there&{param}"), TABS)
    assert link.tab == "translation"
    assert link.inputs["text"] == "Hello there"
    name = param.split("=")[0]
    assert len(link.problems) == 1, link.problems
    assert link.problems[0].startswith(f"In the link, '{name}':")
    assert says in link.problems[0]


def test_explorer_settings_without_run_say_they_need_it():
    link = parse_link(query("?tab=translation&text=a&layer=2"), TABS)
    assert link.settings == {} and link.run is False
    assert "add run=1" in link.problems[0]


def test_a_tab_with_nothing_to_run_says_so():
    link = parse_link(query("?tab=lessons&run=1"), TABS)
    assert link.tab == "lessons" and link.run is False
    assert "nothing to run" in link.problems[0]


def test_what_a_visitor_typed_comes_back_bounded_and_as_text():
    """Values stay text for a textbox (HTML inert there); messages quote names and values cut by `echo`."""
    html = "<img src=x onerror=alert(1)>"
    link = parse_link({"tab": "translation", "text": html, "x" * 5000: "1"}, TABS)
    assert link.inputs["text"] == html
    assert all(len(problem) < 400 for problem in link.problems)
    huge = parse_link({"tab": "translation", "text": "a" * (MAX_VALUE_CHARS + 1)}, TABS)
    assert "text" not in huge.inputs and f"at most {MAX_VALUE_CHARS:,}" in huge.problems[0]
    odd = parse_link({"tab": "translation", "text": "\ud800 é 👋🏽 \u202e"}, TABS)
    assert odd.inputs["text"] == "\ud800 é 👋🏽 \u202e"  # the tab's own cleaning takes the lone surrogate out


def test_many_problems_are_shown_as_a_few_toasts():
    link = parse_link({"tab": "translation", **{f"p{i}": "1" for i in range(20)}}, TABS)
    assert len(link.problems) == 20
    assert len(link.shown) == 6 and "15 more problems" in link.shown[-1]


def test_a_written_link_parses_back_to_its_values():
    inputs = {"text": "C'est la vie & co + 100%\nligne 2", "target_language": "German", "num_beams": 2.0}
    settings = {"layer": "2", "focus": "vie", "encoder_merge_words": "1"}
    written = link_query(TRANSLATION, inputs, settings)
    assert written.startswith("?tab=translation&text=C%27est+la+vie+%26+co+%2B+100%25%0Aligne+2&")
    assert written.endswith("&run=1")
    link = parse_link(query(written), TABS)
    assert link.problems == ()
    assert link.inputs == {"text": inputs["text"], "target_language": "German", "num_beams": 2}
    assert link.settings == {"layer": "2", "focus": "vie", "encoder_merge_words": True}


def test_a_value_too_long_for_a_link_is_refused_with_its_name():
    with pytest.raises(InputError, match=f"The text is 2,001 characters long; a link carries at most {2000:,}"):
        link_query(TRANSLATION, {"text": "a" * 2001}, {})


def test_the_settings_apply_in_an_order_that_covers_them_all():
    assert sorted(ORDER) == sorted(SETTINGS)


# Explorer settings, applied to a run: the explorer's own messages ---------------------------------------


def axis(tokens: list[str], special: set[int]) -> TokenAxis:
    positions = tuple(range(len(tokens)))
    flags = tuple(i in special for i in range(len(tokens)))
    return TokenAxis(tokens=tuple(tokens), ids=positions, special=flags, word_of=positions, words=tuple(tokens))


def weights(layers: int, heads: int, queries: int, keys: int) -> np.ndarray:
    raw = np.random.default_rng(0).random((layers, heads, queries, keys)).astype(np.float32)
    return raw / raw.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def sentence() -> AttentionMaps:
    """'[CLS] the animal was tired because it [SEP]': 3 layers x 4 heads."""
    tokens = axis(["[CLS]", "the", "animal", "was", "tired", "because", "it", "[SEP]"], special={0, 7})
    return AttentionMaps(title="sentence", query=tokens, key=tokens, weights=weights(3, 4, 8, 8))


@pytest.fixture(scope="module")
def decoding() -> AttentionMaps:
    target = axis(["<pad>", "le", "chat", "</s>"], special={0, 3})
    source = axis(["the", "cat", "</s>"], special={2})
    steps = (Step(query=0, token="le"), Step(query=1, token="chat"), Step(query=2, token="</s>"))
    return AttentionMaps(title="cross", query=target, key=source, weights=weights(2, 2, 4, 3), cross=True, steps=steps)


def test_good_settings_give_the_view_the_controls_would(sentence):
    settings = {"layer": "2", "head": "3", "focus": "it", "hide_special": True, "view": "heads", "color_scale": "fit"}
    view, problems = restore_view(settings, [sentence])
    assert problems == ()
    assert view == parse_view(settings, [sentence])
    assert (view.layer, view.head, view.focus, view.mode) == (2, "3", 6, "heads")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("layer", "9", "Layer 9 does not exist; this model has layers 1 to 3."),
        ("head", "5", "Head 5 does not exist; this model has heads 1 to 4."),
        ("head", "middle", "Head must be 'mean', 'max' or a number from 1 to 4, not 'middle'."),
        ("focus", "zebra", "'zebra' is not a token or word of this input"),
        ("view", "<b>x</b>", "View must be one of heatmap, heads, model, not '<b>x</b>'."),
        ("color_scale", "rainbow", "Colour scale must be one of auto, fixed, fit, not 'rainbow'."),
        ("lens", "magic", "Lens must be one of attention"),
        ("lens", "logit_lens", "is not offered here"),
        ("ablate", "7.1", "layer 7 does not exist"),
    ],
)
def test_a_bad_setting_gets_its_controls_message_and_the_others_apply(sentence, name, value, message):
    view, problems = restore_view({"layer": "1", "head": "2", name: value}, [sentence], prefix="encoder_")
    (problem,) = problems
    assert problem.startswith(f"In the link, 'encoder_{name}': ")
    assert message in problem
    if name not in ("layer", "head"):
        assert (view.layer, view.head) == (1, "2")


def test_a_step_and_its_focus_come_back(decoding):
    view, problems = restore_view({"step": "2", "merge_words": True}, [decoding])
    assert problems == () and view.step == 2 and view.merge_words


@pytest.mark.parametrize(
    "view",
    [
        View(layer=3, head="mean"),
        View(layer=1, head="4", focus=6, hide_special=True, color_scale="fixed", mode="heads"),
        View(layer=2, head="max", focus=2, merge_words=True, knock_out=((1, 2), (3, 4))),
    ],
)
def test_a_views_settings_give_the_same_view_back(sentence, view):
    settings = view_settings(view, sentence)
    restored, problems = restore_view(settings, [sentence])
    assert problems == ()
    assert restored == view


def test_a_views_settings_are_short_and_readable(sentence):
    assert view_settings(View(layer=3, head="mean"), sentence) == {}
    found = view_settings(View(layer=1, head="2", focus=6, hide_special=True), sentence)
    assert found == {"layer": "1", "head": "2", "focus": "it", "hide_special": "1"}


def test_a_focus_whose_text_is_ambiguous_is_written_as_its_position():
    tokens = axis(["[CLS]", "it", "is", "it", "[SEP]"], special={0, 4})
    maps = AttentionMaps(title="twice", query=tokens, key=tokens, weights=weights(1, 1, 5, 5))
    assert view_settings(View(layer=1, focus=3), maps)["focus"] == "3"
    assert view_settings(View(layer=1, focus=1), maps)["focus"] == "it"


# The lessons --------------------------------------------------------------------------------------------


def app_tabs():
    """The tabs the app declares, as its page load parses a link against them."""
    import app

    return app.demo.links.known


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.title)
def test_every_lesson_link_opens_its_tab_without_a_problem(lesson):
    """Followed through the same parsing as the page's load, against the tabs this app declares."""
    href = lesson.href
    assert href.startswith("?tab=") and not urlsplit(href).netloc, "A lesson's link must be relative"
    link = parse_link(query(href), app_tabs())
    assert link.problems == (), f"{lesson.title}: {link.problems}"
    assert link.tab == lesson.link["tab"] and link.run


def test_nine_lessons_in_the_courses_order_each_two_or_three_sentences():
    titles = [lesson.title for lesson in LESSONS]
    assert titles[0] == "What a pipeline does" and titles[-1] == "Attention is not explanation"
    assert len(LESSONS) == 9
    for lesson in LESSONS:
        sentences = lesson.text.replace("e.g.", "eg").count(". ") + 1
        assert 2 <= sentences <= 3, f"{lesson.title}: {sentences} sentences"


def test_the_lessons_are_escaped_and_link_in_the_same_window():
    page = lessons_html()
    assert page.count('target="_self"') == len(LESSONS)
    assert "<code>[CLS]</code>" in page
    assert "&amp;run=1" in page  # an attribute's & escaped; the browser reads it back as &


def test_a_link_chooses_only_among_a_dropdowns_choices():
    """A link cannot name a model the configuration does not: the attention tab's model is a choice."""
    link = parse_link({"tab": "attention", "text": "hi", "model": "/tmp/any-model", "run": "1"}, app_tabs())
    assert "model" not in link.inputs
    assert link.problems[0].startswith("In the link, 'model': model must be one of:")


def test_the_app_declares_every_tab_with_its_inputs_by_api_name():
    by_key = {tab.key: tab for tab in app_tabs()}
    assert list(by_key) == [
        "lessons",
        "sentiment",
        "fill_mask",
        "zero_shot",
        "generation",
        "translation",
        "attention",
        "tokenizers",
    ]
    names = {key: [f.name for f in tab.fields] for key, tab in by_key.items()}
    assert names["translation"] == ["text", "target_language", "num_beams"]
    assert names["generation"][:7] == ["prompt", "max_new_tokens", "do_sample", "temperature", "top_p", "top_k", "seed"]
    assert names["zero_shot"] == ["text", "labels", "multi_label", "hypothesis_template"]
    assert names["fill_mask"] == ["text", "text_b", "top_k"] and names["tokenizers"] == ["text"]
    assert names["attention"][:4] == ["text", "text_pair", "model", "compare_architectures"]
    assert by_key["translation"].explorers == ("", "encoder_")
    assert by_key["translation"].api_name == "translate" and by_key["lessons"].fields == ()
