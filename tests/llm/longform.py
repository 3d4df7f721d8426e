"""A synthetic long meeting transcript (segments with times and speakers), deterministic.

Used where real recordings of that length are not available: the map-reduce test (one hour) and
bench/llm.py (30 minutes). Every fact is stated in the text, so outputs can be checked against it.
"""

from __future__ import annotations

import random

PEOPLE = ("Maria", "Tom", "Priya", "Kenji")
CITIES = ("Denver", "Lisbon", "Osaka", "Toronto", "Nairobi", "Glasgow")
PRODUCTS = ("the billing service", "the mobile app", "the data pipeline", "the support portal",
            "the search index", "the onboarding flow")

LINES = (
    "Let's move on to {product}.",
    "{other}, can you give us the update on {product}?",
    "Sure. Last week the team in {city} finished {n} of the {m} tasks we planned.",
    "The main problem was the deployment on Tuesday, which took {h} hours instead of one.",
    "We think the cause was the configuration of the servers in {city}.",
    "Customers reported {n} issues, and most of them are already fixed.",
    "I agree, but we should not promise the date before we know more.",
    "So the decision is to keep the release for {product} on the same schedule.",
    "{other} will write the summary for the customers by Friday.",
    "Does anyone have questions about {product}? No? Then let's continue.",
)


def meeting_segments(minutes: int, seed: int = 7) -> list[dict]:
    """About 150 words per minute of speech, in segments of one or two sentences."""
    rng = random.Random(seed)
    segments: list[dict] = []
    t = 0.0
    for minute in range(minutes):
        product = PRODUCTS[minute % len(PRODUCTS)]
        city = CITIES[(minute * 5) % len(CITIES)]
        speakers = rng.sample(PEOPLE, 2)
        words = 0
        i = 0
        while words < 150:
            line = LINES[i % len(LINES)]
            text = line.format(
                product=product, city=city, other=speakers[(i + 1) % 2],
                n=rng.randint(3, 19), m=rng.randint(20, 30), h=rng.randint(2, 9),
            )
            duration = len(text.split()) / 2.5
            segments.append({
                "start": round(t, 2), "end": round(t + duration, 2), "text": text,
                "speaker": speakers[i % 2], "confidence": 0.9, "words": [],
            })
            t += duration
            words += len(text.split())
            i += 1
        t = max(t, (minute + 1) * 60.0)
    return segments


def plain_text(segments: list[dict]) -> str:
    return " ".join(s["text"] for s in segments)
