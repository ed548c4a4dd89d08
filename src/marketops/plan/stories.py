"""User stories: "As a [persona], I want [goal], so that [outcome]", in English, Italian, Spanish
and Russian, parsed into persona, want and outcome.

The three parts are found by their keywords (case-insensitive, as whole words): the persona
follows the opening keyword ("As a", "Come", "Como", "Как"), the want follows "I want" ("voglio",
"quiero", "я хочу"), the outcome follows "so that" ("in modo da", "para", "чтобы"). Commas are
optional, runs of whitespace count as one space, quotes around the story and a closing full stop
are dropped. A story that does not follow the form gets a :class:`StoryFormatError` saying which
part is missing and showing the expected form in the story's language (or all four forms when
the story is in none of them).

Example:
    >>> s = parse_story("As a marketing manager, I want a weekly email report, so that I spot drops early.")
    >>> s.persona, s.want, s.outcome, s.language
    ('marketing manager', 'a weekly email report', 'I spot drops early', 'en')
    >>> parse_story("Come responsabile vendite vorrei lead migliori così da chiudere di più").want
    'lead migliori'
    >>> try:
    ...     parse_story("As a marketer, I want more leads")
    ... except StoryFormatError as e:
    ...     print(e.message)
    the story has 'As a …' and 'I want …' but no 'so that …' part; expected: As a [persona], I want [goal], so that [outcome]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from marketops.errors import ValidationFailed

#: Languages a story may be written in, in the order messages list them.
STORY_LANGUAGES = ("en", "it", "es", "ru")
PARTS = ("persona", "want", "outcome")
#: The longest story accepted (a story is a sentence, not a document).
MAX_STORY_LENGTH = 4000


@dataclass(frozen=True)
class StoryForm:
    """How one language writes a story: its keywords, most specific first, and how to show them."""

    language: str
    #: Regular expression of the opening keyword, matched at the start of the story.
    intro: str
    #: Keywords before the want; the first one is the canonical one used by :func:`format_story`.
    want: tuple[str, ...]
    #: Keywords before the outcome that rarely occur inside a want ("so that", "in modo da").
    outcome: tuple[str, ...]
    #: Common words that also introduce an outcome ("per", "para"): used only when no keyword of
    #: ``outcome`` is there, and then the one after a comma (else the last one) wins.
    outcome_weak: tuple[str, ...] = ()
    #: The labels of the three parts in messages: 'As a …', 'I want …', 'so that …'.
    labels: tuple[str, str, str] = ("", "", "")
    #: The whole form, as a message shows it.
    template: str = ""
    intro_text: str = ""
    outcome_text: str = ""


FORMS: dict[str, StoryForm] = {
    "en": StoryForm(
        "en", r"as(?:\s+an?(?=[\s,;:]))?",
        ("I want", "I want to", "I would like to", "I'd like to", "I’d like to"),
        ("so that", "in order to"),
        labels=("As a …", "I want …", "so that …"),
        template="As a [persona], I want [goal], so that [outcome]", intro_text="As a", outcome_text="so that"),
    "it": StoryForm(
        "it", r"come",
        ("voglio", "io voglio", "vorrei", "io vorrei"),
        ("in modo da", "in modo che", "così da", "cosi da", "così che", "affinché", "affinche"),
        ("per",),
        labels=("Come …", "voglio …", "in modo da …"),
        template="Come [persona], voglio [obiettivo], in modo da [risultato]", intro_text="Come",
        outcome_text="in modo da"),
    "es": StoryForm(
        "es", r"como",
        ("quiero", "yo quiero", "quisiera", "yo quisiera"),
        ("para que", "de modo que", "de manera que", "a fin de que", "a fin de"),
        ("para",),
        labels=("Como …", "quiero …", "para …"),
        template="Como [persona], quiero [objetivo], para [resultado]", intro_text="Como", outcome_text="para"),
    "ru": StoryForm(
        "ru", r"как",
        ("я хочу", "хочу", "я бы хотел", "я бы хотела"),
        ("для того, чтобы", "для того чтобы", "с тем чтобы", "чтобы"),
        labels=("Как …", "я хочу …", "чтобы …"),
        template="Как [персона], я хочу [цель], чтобы [результат]", intro_text="Как", outcome_text="чтобы"),
}

# Quotes people paste stories in; dropped when they enclose the whole story.
_OPENING_QUOTES = "\"'“”‘’«„‚‹「"
_CLOSING_QUOTES = "\"'”“’‘»‟‛›」"
# What separates the parts (dropped at the edges of a part); a closing full stop ends the outcome.
_EDGE = " ,;:–—-"
_END = " .!…。"


def _phrase(words: str) -> str:
    """A keyword as a regular expression: whole words, any whitespace between them, any apostrophe."""
    def word(w: str) -> str:
        return "".join("['’]" if ch in "'’" else re.escape(ch) for ch in w)

    return r"(?<!\w)" + r"\s+".join(word(w) for w in words.split()) + r"(?!\w)"


def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    ordered = sorted(set(phrases), key=len, reverse=True)  # "I want to" before "I want"
    return re.compile("|".join(_phrase(p) for p in ordered), re.IGNORECASE)


@dataclass(frozen=True)
class _Compiled:
    intro: re.Pattern[str]
    want: re.Pattern[str]
    outcome: re.Pattern[str]
    outcome_weak: re.Pattern[str] | None


_COMPILED = {code: _Compiled(re.compile(r"^" + f.intro + r"(?!\w)", re.IGNORECASE), _alternation(f.want),
                             _alternation(f.outcome), _alternation(f.outcome_weak))
             for code, f in FORMS.items()}


@dataclass(frozen=True)
class Story:
    """A parsed story: its three parts, its language, the text as read (quotes and extra spaces
    dropped) and that text cut into segments (``kind`` is a part's name, or "" for keywords)."""

    persona: str
    want: str
    outcome: str
    language: str
    text: str
    segments: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    #: The keywords as written ("I want to", "para que"), so the story can be written again the same way.
    markers: tuple[str, str, str] = field(default=("", "", ""), compare=False)

    @property
    def parts(self) -> dict[str, str]:
        return {"persona": self.persona, "want": self.want, "outcome": self.outcome}

    def as_text(self) -> str:
        """The story written in its canonical form with the keywords it was written with.

        >>> parse_story("as an  analyst i want to  see ROAS so that I can cut waste.").as_text()
        'As an analyst, I want to see ROAS, so that I can cut waste.'
        """
        return format_story(self.persona, self.want, self.outcome, self.language, markers=self.markers)


class StoryFormatError(ValidationFailed):
    """A story that does not follow the form; ``language`` is the closest form (None: none)."""

    def __init__(self, message: str, *, language: str | None, found: tuple[str, ...] = (),
                 missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.language = language
        self.found = found
        self.missing = missing

    @property
    def expected(self) -> str | list[str]:
        return FORMS[self.language].template if self.language else [f.template for f in FORMS.values()]


def clean_story(text: str) -> str:
    """The story as parsed: whitespace collapsed, enclosing quotes and closing full stop dropped.

    >>> clean_story('  “As a  buyer,\\n I want X, so that Y.”  ')
    'As a buyer, I want X, so that Y'
    """
    text = " ".join((text or "").split()).rstrip(_END)
    # the full stop may sit inside or outside the quotes: “… so that Y.” or “… so that Y”.
    while len(text) >= 2 and text[0] in _OPENING_QUOTES and text[-1] in _CLOSING_QUOTES:
        text = text[1:-1].strip().rstrip(_END)
    return text


def _first_outcome(pattern: re.Pattern[str], text: str, start: int) -> re.Match[str] | None:
    """The first keyword that leaves something before it ("я хочу, чтобы X, чтобы Y": the second)."""
    matches = list(pattern.finditer(text, start))
    # with nothing before any of them, the first one: then the message says the want is empty
    return next((m for m in matches if text[start:m.start()].strip(_EDGE)), matches[0] if matches else None)


def _weak_outcome(pattern: re.Pattern[str], text: str, start: int) -> re.Match[str] | None:
    """A common word as the outcome's keyword: the last one after a comma, else the last one
    ("un report per canale per capire": the want keeps "per canale")."""
    matches = [m for m in pattern.finditer(text, start) if text[start:m.start()].strip(_EDGE)] or list(
        pattern.finditer(text, start))[:1]
    after_comma = [m for m in matches if text[:m.start()].rstrip().endswith((",", ";", "–", "—"))]
    return (after_comma or matches or [None])[-1]


def _locate(code: str, text: str) -> tuple[re.Match | None, re.Match | None, re.Match | None]:
    """Where the three keywords of language ``code`` are: the outcome is looked for after the want."""
    c = _COMPILED[code]
    intro = c.intro.match(text)
    want = c.want.search(text, intro.end() if intro else 0)
    after = want.end() if want else (intro.end() if intro else 0)
    outcome = _first_outcome(c.outcome, text, after)
    if outcome is None and c.outcome_weak is not None:
        outcome = _weak_outcome(c.outcome_weak, text, after)
    return intro, want, outcome


def _part(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of a part between two keywords, separators at its edges left out."""
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


def _quoted(labels: list[str]) -> str:
    quoted = [f"'{label}'" for label in labels]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _missing_message(form: StoryForm, found: list[str], missing: list[str]) -> str:
    labels = dict(zip(PARTS, form.labels, strict=True))
    no = " and no ".join(f"'{labels[p]}'" for p in missing)
    kind = "part" if len(missing) == 1 else "parts"
    return (f"the story has {_quoted([labels[p] for p in found])} but no {no} {kind}; "
            f"expected: {form.template}")


def _known_forms() -> str:
    return "write it as one of: " + "; ".join(f"{f.template} ({code})" for code, f in FORMS.items())


def parse_story(story: str) -> Story:
    """``story`` cut into persona, want and outcome, its language detected; :class:`StoryFormatError`
    (a ValidationFailed) when it does not follow the form of any of the four languages.

    Example:
        >>> s = parse_story("Как менеджер по продажам я хочу получать лиды быстрее, чтобы закрывать больше сделок.")
        >>> s.language, s.persona, s.outcome
        ('ru', 'менеджер по продажам', 'закрывать больше сделок')
        >>> parse_story("Como analista, quiero un panel, para que el equipo decida rápido").outcome
        'el equipo decida rápido'
    """
    if story is not None and len(story) > MAX_STORY_LENGTH:
        raise StoryFormatError(f"the story is too long ({len(story):,} characters; at most {MAX_STORY_LENGTH:,})",
                               language=None)
    text = clean_story(story or "")
    if not text:
        raise StoryFormatError("the story is empty; " + _known_forms(), language=None, missing=PARTS)
    best: tuple[int, str, list[str], list[str]] | None = None
    for code in STORY_LANGUAGES:
        intro, want, outcome = _locate(code, text)
        found = [p for p, m in zip(PARTS, (intro, want, outcome), strict=True) if m is not None]
        missing = [p for p in PARTS if p not in found]
        if not missing:
            return _story(code, text, intro, want, outcome)
        # The opening keyword weighs most: "Come ..." is Italian even when "per" is all else found.
        score = 2 * (intro is not None) + len(found)
        # a lone outcome word ("para", "per") says nothing about the language
        if (intro or want) and (best is None or score > best[0]):
            best = (score, code, found, missing)
    if best is None:
        raise StoryFormatError("the story follows none of the known forms; " + _known_forms(), language=None,
                               missing=PARTS)
    _, code, found, missing = best
    form = FORMS[code]
    raise StoryFormatError(_missing_message(form, found, missing), language=code, found=tuple(found),
                           missing=tuple(missing))


def _story(code: str, text: str, intro: re.Match, want: re.Match, outcome: re.Match) -> Story:
    form = FORMS[code]
    spans = {"persona": _part(text, intro.end(), want.start()),
             "want": _part(text, want.end(), outcome.start()),
             "outcome": _part(text, outcome.end(), len(text))}
    labels = dict(zip(PARTS, form.labels, strict=True))
    for name, (start, end) in spans.items():
        if start >= end:
            raise StoryFormatError(f"the {name} after '{labels[name][:-2]}' is empty; expected: {form.template}",
                                   language=code, found=PARTS, missing=(name,))
    segments: list[tuple[str, str]] = []
    at = 0
    for name in PARTS:
        start, end = spans[name]
        if start > at:
            segments.append(("", text[at:start]))
        segments.append((name, text[start:end]))
        at = end
    if at < len(text):
        segments.append(("", text[at:]))
    markers = ("", _canonical(form.want, want.group(0)),
               _canonical(form.outcome + form.outcome_weak, outcome.group(0)))
    return Story(*(text[s:e] for s, e in spans.values()), language=code, text=text, segments=tuple(segments),
                 markers=markers)


def _canonical(phrases: tuple[str, ...], written: str) -> str:
    """The keyword as the form spells it ("i  WANT to" -> "I want to")."""
    return next((p for p in phrases if re.fullmatch(_phrase(p), written, re.IGNORECASE)), written)


def format_story(persona: str, want: str, outcome: str, language: str = "en", *,
                 markers: tuple[str, str, str] | None = None) -> str:
    """A story in the canonical form of ``language`` (the inverse of :func:`parse_story`).

    Example:
        >>> format_story("analista", "un panel", "decidir rápido", "es")
        'Como analista, quiero un panel, para decidir rápido.'
        >>> format_story("editor", "drafts", "I save time")
        'As an editor, I want drafts, so that I save time.'
    """
    if language not in FORMS:
        raise ValidationFailed(f"unknown story language '{language}'; valid: {', '.join(STORY_LANGUAGES)}")
    form = FORMS[language]
    _, want_kw, outcome_kw = markers or ("", "", "")
    intro = "As an" if language == "en" and persona[:1].lower() in "aeiou" else form.intro_text
    want_kw = want_kw or form.want[0]
    outcome_kw = outcome_kw or form.outcome_text
    return f"{intro} {persona}, {want_kw} {want}, {outcome_kw} {outcome}."


def story_title(story: Story, limit: int = 300) -> str:
    """An initiative's default title: the want, first letter capitalised, cut at ``limit`` characters.

    >>> story_title(parse_story("As a rep, I want faster lead routing, so that I call sooner"))
    'Faster lead routing'
    """
    title = story.want[:1].upper() + story.want[1:]
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


__all__ = [
    "FORMS",
    "MAX_STORY_LENGTH",
    "PARTS",
    "STORY_LANGUAGES",
    "Story",
    "StoryForm",
    "StoryFormatError",
    "clean_story",
    "format_story",
    "parse_story",
    "story_title",
]
