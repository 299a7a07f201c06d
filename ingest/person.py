"""PERSON: spaCy's guesses, kept only when they look like a name, plus names spaCy's small model misses.

The small English model tags gene names and codes (``TRPML1``, ``Akt``, ``Chordin``) as people and
misses lone given names, dialogue speakers and names after "my name is". Cheap rules over the text
and the model's own entities, no second model:

- **model**: a spaCy PERSON span is kept when every word is written like a name (capital first, no
  digits, not all capitals) and, for one word alone, it is a known given name or surname that the same
  text does not also use in lower case ("Myelin ... myelin");
- **given names**: a capitalised known given name (``ingest.names``) with the capitalised words and
  initials after it ("Julieta S Almeida"); "First X Last" with an initial is a name on its own;
- **cues**: the words after "my name is", "named", "call me", "Mr.", "Dear", "said", "User:", ... —
  after the strongest ("name is") even a lower-cased name;
- **speakers**: a name opening a line before a colon ("Ella: see you"), when it is a known name or
  the text is a dialogue (the same label opens several lines);
- **lists**: names listed with a found one ("Konya, Becker and Vasquez");
- **shapes and cards** (``ingest.person_shapes``): a word written like a foreign surname with the
  capitalised words around it, the first line of a contact card, words that spell an e-mail address.

No rule takes a word followed by a technical noun ("Aurora kinase", "Cox regression"), a symbol glued
to digits ("Cas9", "Ki-67"), or a given name that is an everyday word ("May", "Grace").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from ingest.names import everyday_words, frequent_given_names, given_names, surnames
from ingest.person_shapes import (
    contact_block_spans,
    email_name_spans,
    foreign_shaped,
    may_hold_shaped,
    near_digits,
)
from ingest.person_text import (
    GLUED,
    QUOTES,
    WORD,
    WORDS,
    Found,
    NameText,
    capitalised,
    is_initial,
    known,
    lower_name_word,
)
from ingest.person_words import FIELD_LABELS, TECHNICAL_NOUNS

MODEL_SCORE = 0.85  # what presidio's own spaCy recognizer gives
CUE_SCORE = 0.8
SPEAKER_SCORE = 0.75
GIVEN_NAME_SCORE = 0.6

_STRONG_CUE = re.compile(
    r"(?i)(?<![\w])(?:(?:my|his|her|their|your|our|maiden|last|first|full|middle|nick|user|sur)\s?name"
    r"(?:\s+(?:is|was|will be))?|name\s+(?:is|was)|called\s+me|calls?\s+me|named(?:\s+(?:him|her|them))?)"
    r"\s*[:?,]?\s*"
)
_WEAK_CUE = re.compile(
    r"(?<![\w])(?:[Mm]rs?|[Mm]s|[Mm]iss|[Mm]x|[Dd]r|[Pp]rof|[Ss]ir|[Dd]ear|[Hh]i|[Hh]ello|[Hh]ey|"
    r"[Tt]hanks|[Tt]hank you|says|said|asked|replied|wrote|I am|I'm|[Tt]his is|[Rr]egards|[Cc]heers|"
    r"[Ss]incerely|[Ss]tarring|[Dd]irected by|[Ff]ounded by|[Ww]ritten by|[Aa]ccording to|[Gg]uardian)"
    r"\.?,?\s+"
)
# A form field or chat role whose value is a person: "User: Ada Lovelace", "From: Ella Roe".
_FIELD_CUE = re.compile(
    r"(?i)(?<![\w])(?:user|customer|client|name|author|patient|employee|contact|from|signed|attendee|"
    r"assignee|reporter|owner|guardian|manager|to|cc|bcc|signed-off-by|co-authored-by|reviewed-by|"
    r"acked-by|reported-by)[ \t]*:[ \t]*"
)
# What only a person does or has, right after a name: "Tomomi Nishiyama lives at", "Asya's kid".
_PERSON_WORDS = re.compile(
    r"[ ](?:lives|lived|said|says|wrote|writes|told|tells|asked|asks|replied|married|smiled|laughed|"
    rf"was born|is married)\b|[{QUOTES}]s[ ](?:kid|kids|wife|husband|son|daughter|mother|father|mom|dad|"
    r"brother|sister|friend|partner|boyfriend|girlfriend|children|family)\b|[ ]\((?:she|he|they)/"
)
# The one to three capitalised words or initials that end where a person word begins.
_NAME_BEFORE = re.compile(rf"(?<![\w{QUOTES}-])(?:{WORD}|[A-Z]\.?)(?:[ ](?:{WORD}|[A-Z]\.?)){{0,2}}$")
_WITH_INITIAL = re.compile(rf"(?<![\w{QUOTES}-]){WORD}[ ][A-Z]\.?[ ]{WORD}(?![\w{QUOTES}-])")
_LIST_AFTER = re.compile(rf"(?:,[ ]and[ ]|,[ ]|[ ]and[ ]|[ ]&[ ])(?P<name>{WORD})")
_LIST_BEFORE = re.compile(rf"(?<![\w{QUOTES}-])(?P<name>{WORD}(?:[ ]{WORD})?)(?:,[ ]|[ ]and[ ]|[ ]&[ ])$")
_SPEAKER = re.compile(rf"(?m)^[ \t>*-]*(?P<label>{WORD}(?:[ ]{WORD}){{0,2}})[ \t]*:[ \t]")
_WORD_BEFORE = re.compile(rf"(?<![\w{QUOTES}-]){WORD}[ ]$")
_POSSESSIVE = re.compile(rf"[{QUOTES}]s$")


def _model_spans(text: NameText) -> Iterator[Found]:
    for entity in text.people:
        span = text.text[entity.start_char : entity.end_char].split("\n")[0]
        span = _POSSESSIVE.sub("", span).rstrip(" .,;:")
        words = span.split()
        end = entity.start_char + len(span)
        if not words or not all(capitalised(w) or is_initial(w) for w in words):
            continue
        if not any(capitalised(w) for w in words) or text.technical_after(end):
            continue
        if len(words) == 1 and (not known(span) or span.lower() in text.lower_words):
            continue
        if text.headline and not all(known(w) or is_initial(w) for w in words):
            continue
        yield entity.start_char, end, MODEL_SCORE


def _given_name_spans(text: NameText) -> Iterator[Found]:
    if text.headline:
        return
    given, frequent = given_names(), frequent_given_names()
    for word in WORDS.finditer(text.text):
        token, start, end = word.group(), word.start(), word.end()
        if not capitalised(token) or token.lower() not in given or token.lower() in text.lower_words:
            continue
        if GLUED.match(text.text, end) or (start > 0 and text.text[start - 1] in "-/"):
            continue  # "Ki-67", "Cas9", "Na+": a symbol, not a name
        run = text.name_run(start)
        if run is None:
            continue
        if run[1] == end and len(token) <= 3 and token.lower() not in frequent:
            continue  # a short rare "name" alone is mostly a gene symbol ("Erk", "Ang")
        yield (*run, GIVEN_NAME_SCORE)


def _initial_spans(text: NameText) -> Iterator[Found]:
    if text.headline:
        return
    for match in _WITH_INITIAL.finditer(text.text):
        first, _, last = match.group().split(" ")
        technical = last.lower() in TECHNICAL_NOUNS or text.technical_after(match.end())
        if capitalised(first) and capitalised(last) and not technical:
            yield match.start(), match.end(), GIVEN_NAME_SCORE


def _shaped_spans(text: NameText) -> Iterator[Found]:
    """ "to Bekbolat Musliyevich", "Kónya": a foreign-shaped word and the capitalised words before it."""
    if text.headline or not may_hold_shaped(text.text):
        return
    common = everyday_words()
    for word in WORDS.finditer(text.text):
        token, start, end = word.group(), word.start(), word.end()
        if not foreign_shaped(token) or token.lower() in text.lower_words:
            continue
        if GLUED.match(text.text, end) or (start > 0 and text.text[start - 1] in "-/"):
            continue
        if near_digits(text.text, start, end) or text.text.startswith("@", end):
            continue  # "594 Hegedűs utca", "Domoszló\n Hungary 34796": an address
        run = text.name_run(start)
        if run is None:
            continue
        while (before := _WORD_BEFORE.search(text.text, max(0, run[0] - 40), run[0])) is not None:
            previous = before.group().strip()
            if (
                not capitalised(previous)
                or previous.lower() in common
                or previous.lower() in text.lower_words
            ):
                break
            run = (before.start(), run[1])
        yield (*run, GIVEN_NAME_SCORE)


def _layout_spans(text: NameText) -> Iterator[Found]:
    for start, end in (*contact_block_spans(text.text), *email_name_spans(text.text)):
        yield start, end, CUE_SCORE


def _cue_spans(text: NameText) -> Iterator[Found]:
    for match in _STRONG_CUE.finditer(text.text):
        run = text.name_run(match.end(), lower_ok=True)
        if run is not None:
            yield (*run, CUE_SCORE)
    for match in _WEAK_CUE.finditer(text.text):
        # "hey tom": after a greeting a known given name counts in lower case too
        run = text.name_run(match.end(), lower_ok=_known_lower(text.text, match.end()))
        if run is not None:
            yield (*run, CUE_SCORE)
    for match in _FIELD_CUE.finditer(text.text):
        run = text.name_run(match.end())
        if run is not None:
            yield (*run, CUE_SCORE)


def _before_person_words(text: NameText) -> Iterator[Found]:
    for match in _PERSON_WORDS.finditer(text.text):
        before = _NAME_BEFORE.search(text.text, max(0, match.start() - 80), match.start())
        if before is None:
            continue
        words = before.group().split(" ")
        # the name is the capitalised words just before: "The true gender of Ella said" -> "Ella"
        kept = len(words)
        while kept and (capitalised(words[kept - 1]) or is_initial(words[kept - 1])):
            kept -= 1
        name = " ".join(words[kept:])
        if name and capitalised(name.split(" ")[0]) and not _is_sentence_word(name, text):
            yield match.start() - len(name), match.start(), CUE_SCORE
        elif not name and (lower := _lower_name_before(words)):
            yield match.start() - len(lower), match.start(), CUE_SCORE


def _lower_name_before(words: list[str]) -> str:
    """ "eva kleist lives at": a lower-case name, when it opens with a known given name."""
    for first in range(max(0, len(words) - 3), len(words)):
        candidate = words[first:]
        if candidate[0].lower() in given_names() and all(lower_name_word(w) for w in candidate):
            return " ".join(candidate)
    return ""


def _known_lower(text: str, start: int) -> bool:
    word = WORDS.match(text, start)
    return word is not None and word.group().islower() and word.group() in given_names()


def _is_sentence_word(name: str, text: NameText) -> bool:
    """A capitalised everyday word ("He said", "They lived") is not a name."""
    first = name.split(" ")[0].lower()
    return first in everyday_words() or (" " not in name and first in text.lower_words)


def _speaker_spans(text: NameText) -> Iterator[Found]:
    labels = [m for m in _SPEAKER.finditer(text.text) if m.group("label").lower() not in FIELD_LABELS]
    turns = Counter(m.group("label") for m in labels)
    dialogue = len(labels) >= 3
    for match in labels:
        label = match.group("label")
        words = label.split()
        if all(capitalised(w) for w in words) and (known(words[0]) or (dialogue and turns[label] >= 2)):
            yield match.start("label"), match.end("label"), SPEAKER_SCORE


def _listed_with(text: NameText, found: list[Found]) -> Iterator[Found]:
    """Names listed beside a found one: "founders: Konya, Becker and Vasquez"."""
    for start, end, score in found:
        cursor = end
        while (after := _LIST_AFTER.match(text.text, cursor)) is not None:
            run = text.name_run(after.start("name"))
            if run is None:
                break
            yield (*run, score)
            cursor = run[1]
        before = _LIST_BEFORE.search(text.text, max(0, start - 60), start)
        if before is not None:
            run = text.name_run(before.start("name"))
            if run is not None and run[1] == before.end("name"):
                yield (*run, score)


def _joined(found: list[Found]) -> list[Found]:
    """Overlapping finds as one span: the analyzer would keep only the better scored of two, and the
    model's "Maria" must not hide the given-name rule's "Maria Gonzalez"."""
    joined: list[Found] = []
    for start, end, score in sorted(found):
        if joined and start <= joined[-1][1]:
            first, last, best = joined[-1]
            joined[-1] = (first, max(last, end), max(best, score))
        else:
            joined.append((start, end, score))
    return joined


def person_spans(text: str, nlp_artifacts: Any = None) -> list[Found]:
    """Every name the rules find in ``text``; ``nlp_artifacts`` are presidio's, holding the spaCy Doc."""
    view = NameText(text, nlp_artifacts)
    found = [
        *_model_spans(view),
        *_given_name_spans(view),
        *_initial_spans(view),
        *_cue_spans(view),
        *_before_person_words(view),
        *_speaker_spans(view),
        *_shaped_spans(view),
        *_layout_spans(view),
    ]
    return _joined(found + list(_listed_with(view, found)))


class PersonRecognizer(EntityRecognizer):  # type: ignore[misc]  # presidio ships no type hints
    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="PersonRecognizer")

    def load(self) -> None:
        given_names(), surnames()  # read the lists at start-up, not on the first text

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        return [RecognizerResult("PERSON", s, e, score) for s, e, score in person_spans(text, nlp_artifacts)]
