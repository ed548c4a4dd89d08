"""User stories parsed into persona, want and outcome in English, Italian, Spanish and Russian: the
keyword variants, forgiving formatting, the messages for stories that do not follow the form, and
two properties (formatting then parsing gives the parts back; parsing is idempotent)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from marketops.plan.stories import (
    FORMS,
    STORY_LANGUAGES,
    StoryFormatError,
    clean_story,
    format_story,
    parse_story,
)

VALID = [
    # English
    ("As a marketing manager, I want a weekly report, so that I spot drops early.", "en",
     ("marketing manager", "a weekly report", "I spot drops early")),
    ("As an analyst, I want to compare channels, in order to move budget.", "en",
     ("analyst", "compare channels", "move budget")),
    ("as a CMO i want fewer tools so that we save money", "en", ("CMO", "fewer tools", "we save money")),
    ("  “As a   sales rep,\n I want   faster routing,   so that I call sooner.”  ", "en",
     ("sales rep", "faster routing", "I call sooner")),
    ("AS AN EDITOR, I'D LIKE TO SCHEDULE POSTS, SO THAT THEY GO OUT ON TIME!", "en",
     ("EDITOR", "SCHEDULE POSTS", "THEY GO OUT ON TIME")),
    ("As a buyer, I’d like to see prices, so that I can decide.", "en", ("buyer", "see prices", "I can decide")),
    # Italian
    ("Come responsabile marketing, voglio un report settimanale, in modo da vedere i cali.", "it",
     ("responsabile marketing", "un report settimanale", "vedere i cali")),
    ("Come venditore vorrei lead migliori così da chiudere di più", "it",
     ("venditore", "lead migliori", "chiudere di più")),
    ("come PM, voglio un cruscotto, affinché il team decida", "it", ("PM", "un cruscotto", "il team decida")),
    ("Come analista, voglio un report per canale, per capire dove investire.", "it",
     ("analista", "un report per canale", "capire dove investire")),
    ("Come analista voglio un report per canale per capire dove investire", "it",
     ("analista", "un report per canale", "capire dove investire")),
    ("«Come CMO, vorrei meno strumenti, cosi da risparmiare»", "it", ("CMO", "meno strumenti", "risparmiare")),
    # Spanish
    ("Como analista, quiero un panel de ROAS, para decidir el presupuesto.", "es",
     ("analista", "un panel de ROAS", "decidir el presupuesto")),
    ("Como gerente quiero alertas para que el equipo reaccione", "es",
     ("gerente", "alertas", "el equipo reaccione")),
    ("como vendedor, quiero leads calientes, de modo que cierre más", "es",
     ("vendedor", "leads calientes", "cierre más")),
    ("Como analista, quiero un informe para cada canal, para decidir.", "es",
     ("analista", "un informe para cada canal", "decidir")),
    # Russian
    ("Как менеджер по продажам, я хочу получать лиды быстрее, чтобы закрывать больше сделок.", "ru",
     ("менеджер по продажам", "получать лиды быстрее", "закрывать больше сделок")),
    ("как маркетолог хочу отчёт по каналам чтобы видеть падения", "ru",
     ("маркетолог", "отчёт по каналам", "видеть падения")),
    ("Как аналитик, я хочу панель, для того чтобы команда решала быстрее.", "ru",
     ("аналитик", "панель", "команда решала быстрее")),
    ("«Как директор, я хочу меньше сервисов, для того, чтобы экономить»", "ru",
     ("директор", "меньше сервисов", "экономить")),
]


@pytest.mark.parametrize(("story", "language", "parts"), VALID)
def test_stories_in_every_language_and_variant(story, language, parts):
    s = parse_story(story)
    assert s.language == language
    assert (s.persona, s.want, s.outcome) == parts
    # the segments put the story back together, the parts in order
    assert "".join(text for _, text in s.segments) == s.text
    assert [p for p, _ in s.segments if p] == ["persona", "want", "outcome"]


@pytest.mark.parametrize(("story", "language", "message"), [
    ("As a marketer, I want more leads", "en",
     ("the story has 'As a …' and 'I want …' but no 'so that …' part; "
      "expected: As a [persona], I want [goal], so that [outcome]")),
    ("I want more leads so that sales is happy", "en", "the story has 'I want …' and 'so that …' but no 'As a …' part"),
    ("As a marketer", "en", "the story has 'As a …' but no 'I want …' and no 'so that …' parts"),
    ("Come analista, in modo da vendere", "it",
     ("the story has 'Come …' and 'in modo da …' but no 'voglio …' part; "
      "expected: Come [persona], voglio [obiettivo], in modo da [risultato]")),
    ("Come analista voglio un report", "it", "no 'in modo da …' part"),
    ("Como analista, quiero un panel", "es",
     "no 'para …' part; expected: Como [persona], quiero [objetivo], para [resultado]"),
    ("Quiero un panel para decidir", "es", "but no 'Como …' part"),
    ("Как аналитик, я хочу панель", "ru",
     "no 'чтобы …' part; expected: Как [персона], я хочу [цель], чтобы [результат]"),
    ("Хочу панель, чтобы решать быстрее", "ru", "but no 'Как …' part"),
    ("As a user, I want, so that I save time", "en", "the want after 'I want' is empty"),
    ("As a, I want reports, so that I save time", "en", "the persona after 'As a' is empty"),
    ("As a user, I want reports, so that.", "en", "the outcome after 'so that' is empty"),
])
def test_a_story_off_the_form_says_which_part_is_missing(story, language, message):
    with pytest.raises(StoryFormatError) as e:
        parse_story(story)
    assert e.value.language == language
    assert message in e.value.message
    assert e.value.expected == FORMS[language].template


@pytest.mark.parametrize("story", ["Make the website faster", "", "   ", "Para todos", "per favore"])
def test_a_story_in_no_known_form_lists_the_four_forms(story):
    with pytest.raises(StoryFormatError) as e:
        parse_story(story)
    assert e.value.language is None
    for form in FORMS.values():
        assert form.template in e.value.message


def test_a_story_too_long_is_refused():
    with pytest.raises(StoryFormatError, match="too long"):
        parse_story("As a rep, I want " + "x" * 5000 + ", so that y")


def test_clean_story_drops_quotes_spaces_and_the_closing_stop():
    assert clean_story('"As a rep,   I want X, so that Y."') == "As a rep, I want X, so that Y"
    assert clean_story("„Как X, хочу Y, чтобы Z“.") == "Как X, хочу Y, чтобы Z"


# -- properties ------------------------------------------------------------------------------------------
LETTERS = {"en": "abcdefghijklmnopqrstuvwxyzABCXYZ", "it": "abcdeèfghilmnopqrstuvzàòù",
           "es": "abcdefghijlmnñopqrstuvxyzáéíóú", "ru": "абвгдеёжзиклмнопрстуфхцчшщыэюяАБВ"}
KEYWORDS = {code: {w.lower() for phrase in (*f.want, *f.outcome, *f.outcome_weak, f.intro_text, "an", "a")
                   for w in re.split(r"\s+", phrase.replace(",", ""))}
            for code, f in FORMS.items()}


def words(language: str) -> st.SearchStrategy[str]:
    word = st.text(alphabet=LETTERS[language], min_size=1, max_size=8).filter(
        lambda w: w.lower() not in KEYWORDS[language])
    sep = st.sampled_from([" ", ", ", " - "])
    return st.lists(st.tuples(word, sep), min_size=1, max_size=5).map(
        lambda ws: "".join(w + s for w, s in ws[:-1]) + ws[-1][0])


@st.composite
def stories(draw):
    language = draw(st.sampled_from(STORY_LANGUAGES))
    return language, draw(words(language)), draw(words(language)), draw(words(language))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(stories())
def test_formatting_then_parsing_gives_the_parts_back(case):
    language, persona, want, outcome = case
    s = parse_story(format_story(persona, want, outcome, language))
    assert (s.persona, s.want, s.outcome, s.language) == (persona, want, outcome, language)


@st.composite
def messy(draw):
    """A story as people type it: odd case, extra spaces, commas left out, quotes, a full stop."""
    language, persona, want, outcome = draw(stories())
    form = FORMS[language]
    intro = draw(st.sampled_from([form.intro_text, form.intro_text.upper(), form.intro_text.lower()]))
    want_kw = draw(st.sampled_from(form.want))
    outcome_kw = draw(st.sampled_from(form.outcome + form.outcome_weak))
    comma = draw(st.sampled_from([",", "", " ,"]))
    space = draw(st.sampled_from([" ", "  ", "\n "]))
    text = f"{intro}{space}{persona}{comma} {want_kw}{space}{want}{comma} {outcome_kw} {outcome}"
    quote = draw(st.sampled_from([("", ""), ("“", "”"), ('"', '"'), ("«", "»")]))
    return quote[0] + text + draw(st.sampled_from(["", ".", "!"])) + quote[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(messy())
def test_parsing_is_idempotent_on_the_parsed_parts(story):
    try:
        first = parse_story(story)
    except StoryFormatError:
        assume(False)
    again = parse_story(first.as_text())
    assert again.parts == first.parts and again.language == first.language
    assert parse_story(again.as_text()).as_text() == again.as_text()
