"""pii_redact: find personal data with Presidio over the shared spaCy pipeline, then redact it.

Found: e-mail addresses, phone numbers, payment card numbers, IBANs, people's names, street
addresses (a pattern recogniser added here: Presidio has none for English), places, US social
security numbers, IP addresses and URLs. Overlapping findings are resolved before redaction (the
highest score wins, then the longest span), so every reported item is exactly one ``[TYPE]`` tag in
the redacted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vocable.analysis.document import Document
from vocable.analysis.nlp import SPACY_MODEL

# Presidio entity → the type name in our results (and the tag put in the text).
ENTITY_TYPES: dict[str, str] = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "PERSON": "person",
    "STREET_ADDRESS": "address",
    "LOCATION": "location",
    "US_SSN": "ssn",
    "IP_ADDRESS": "ip_address",
    "URL": "url",
}
MIN_SCORE = 0.35

_SUFFIXES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
    "Square|Sq|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Close|Crescent|Row|Alley|Trail|Plaza"
)
# "221B Baker Street", "1600 Pennsylvania Avenue NW, Washington, DC 20500",
# "12 Oak Lane, Apt 4, Springfield, IL 62704", "10 Downing Street, London SW1A 2AA".
_STREET = (
    r"\b\d{1,6}[A-Za-z]?(?:[-/]\d{1,4})?\s+(?:[A-Z][\w'’.-]*\s+){0,4}(?:" + _SUFFIXES + r")\b\.?"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|#)\.?\s*[\w-]+)?"
    r"(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})?"
    r"(?:,?\s*(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}))?"
)
_PO_BOX = r"\bP\.?\s?O\.?\s+Box\s+\d{1,7}\b"


@dataclass
class PiiItem:
    type: str  # email, phone, credit_card, iban, person, address, location, ssn, ip_address, url
    text: str
    start: int  # character offsets into the analysed text
    end: int
    score: float
    segment: int | None = None
    speaker: str | None = None


@dataclass
class RedactedSegment:
    index: int
    speaker: str | None
    text: str  # the segment's text with its items redacted
    start: float | None = None
    end: float | None = None


@dataclass
class PiiResult:
    redacted_text: str
    items: list[PiiItem]
    counts: dict[str, int] = field(default_factory=dict)
    segments: list[RedactedSegment] | None = None  # stored transcripts / speaker turns


def build_presidio(nlp):
    """Presidio engines sharing an already loaded spaCy pipeline, never touching the network."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import EmailRecognizer
    from presidio_anonymizer import AnonymizerEngine

    # tldextract's default extractor fetches the public-suffix list over HTTP on first use; this
    # one reads only the snapshot bundled in the package and keeps no cache on disk.
    offline_tld = tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
    )

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str):
            return offline_tld(pattern_text).fqdn != ""

    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": SPACY_MODEL}])
    engine.nlp = {"en": nlp}  # reuse the loaded pipeline instead of loading (or downloading) one

    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    registry.remove_recognizer("EmailRecognizer")
    registry.add_recognizer(OfflineEmailRecognizer())
    registry.add_recognizer(PatternRecognizer(
        supported_entity="STREET_ADDRESS",
        name="StreetAddressRecognizer",
        # Scored as high as spaCy's place names, so "12 Oak Lane, Springfield" wins over
        # "Springfield" alone (ties go to the longer span).
        patterns=[Pattern("street address", _STREET, 0.85), Pattern("po box", _PO_BOX, 0.85)],
        context=["address", "live", "lives", "living", "street", "located", "ship", "mail"],
        # Case matters here: capitalised street names are what make a match likely an address.
        global_regex_flags=re.MULTILINE,
    ))
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
    return analyzer, AnonymizerEngine()


def _resolve_overlaps(results: list) -> list:
    """Keep the best of overlapping findings: higher score, then longer span."""
    chosen: list = []
    for res in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start)):
        if all(res.end <= c.start or res.start >= c.end for c in chosen):
            chosen.append(res)
    return sorted(chosen, key=lambda r: r.start)


def _trim(text: str, result):
    """URLs (and e-mails) at a sentence end come with the full stop; it is not part of them."""
    while result.end > result.start and text[result.end - 1] in ".,;:!?)]'\"":
        result.end -= 1
    return result


def _tag(entity_type: str) -> str:
    return "[" + ENTITY_TYPES[entity_type].upper() + "]"


def _anonymize(anonymizer, text: str, results: list) -> str:
    from presidio_anonymizer.entities import OperatorConfig

    operators = {
        entity: OperatorConfig("replace", {"new_value": _tag(entity)}) for entity in ENTITY_TYPES
    }
    return anonymizer.anonymize(text=text, analyzer_results=results, operators=operators).text


def redact(toolkit, doc: Document) -> PiiResult:
    from presidio_analyzer import RecognizerResult

    analyzer, anonymizer = toolkit.presidio
    with toolkit.spacy_lock:
        found = analyzer.analyze(
            doc.text, language="en", entities=list(ENTITY_TYPES), score_threshold=MIN_SCORE
        )
    kept = _resolve_overlaps([_trim(doc.text, r) for r in found])
    redacted = _anonymize(anonymizer, doc.text, kept)

    items: list[PiiItem] = []
    counts: dict[str, int] = {}
    for res in kept:
        kind = ENTITY_TYPES[res.entity_type]
        seg = doc.segment_at(res.start)
        items.append(PiiItem(kind, doc.text[res.start:res.end], res.start, res.end,
                             round(float(res.score), 3),
                             seg.index if seg else None, seg.speaker if seg else None))
        counts[kind] = counts.get(kind, 0) + 1

    segments = None
    if doc.segments:
        segments = []
        for seg in doc.segments:
            inside = [
                RecognizerResult(r.entity_type, max(r.start, seg.start_char) - seg.start_char,
                                 min(r.end, seg.end_char) - seg.start_char, r.score)
                for r in kept if r.start < seg.end_char and r.end > seg.start_char
            ]
            segments.append(RedactedSegment(
                seg.index, seg.speaker, _anonymize(anonymizer, seg.text, inside), seg.start, seg.end
            ))
    return PiiResult(redacted, items, counts, segments)
