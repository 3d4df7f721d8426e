"""questions: the questions asked, by whom (transcripts, speaker turns), and whether answered.

A sentence is a question when it ends with "?"; in text with no question marks at all (some
transcripts come unpunctuated) a sentence opening like a question ("what", "can you", ...) counts.

Answered: among the next few sentences (by someone else, when speakers are known), the first
statement that MiniLM finds close to the question, or a yes/no reply to a yes/no question. A
question followed only by more questions, or by talk about something else, is unanswered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from vocable.analysis.document import Parsed, Unit

LOOKAHEAD = 4  # sentences after the question that may hold its answer
ANSWER_MIN_SIM = 0.35
_WH = ("what", "who", "whom", "whose", "which", "when", "where", "why", "how")
_AUX = ("is", "are", "was", "were", "am", "do", "does", "did", "can", "could", "will", "would",
        "shall", "should", "may", "might", "must", "have", "has", "had", "isn't", "aren't",
        "wasn't", "weren't", "don't", "doesn't", "didn't", "can't", "couldn't", "won't",
        "wouldn't", "shouldn't", "haven't", "hasn't")
# A yes/no question inverts subject and auxiliary ("do you ...", "is the ..."): the word after the
# auxiliary is its subject. "Don't hear that ..." (an elided statement) is not a question.
_SUBJECTS = ("i", "you", "we", "they", "he", "she", "it", "there", "this", "that", "these", "those",
             "the", "a", "an", "your", "my", "our", "their", "his", "her", "its", "any", "anyone",
             "anybody", "someone", "somebody", "everyone", "everybody", "all", "some")
_YES_NO_REPLY = re.compile(
    r"^\W*(yes|yeah|yep|yup|no|nope|nah|sure|of course|definitely|absolutely|certainly|"
    r"not really|not yet|i do|i don't|i did|i didn't|i will|i won't|i can|i can't|it is|it isn't|"
    r"correct|right|exactly|okay|ok)\b",
    re.IGNORECASE,
)


@dataclass
class Answer:
    text: str
    start: int
    end: int
    score: float  # similarity of question and answer (1.0 for a plain yes/no reply)
    speaker: str | None = None
    segment: int | None = None


@dataclass
class Question:
    text: str
    start: int  # character offsets into the analysed text
    end: int
    kind: str  # wh | yes_no | other
    answered: bool
    answer: Answer | None = None
    speaker: str | None = None  # who asked (transcripts, speaker turns)
    segment: int | None = None


@dataclass
class QuestionsResult:
    questions: list[Question]
    total: int
    answered: int


def _first_word(text: str) -> str:
    match = re.match(r"\W*([A-Za-z']+)", text)
    return match.group(1).lower() if match else ""


def _inverted_subject(text: str) -> bool:
    words = re.findall(r"[A-Za-z']+", text)
    if len(words) < 2:
        return False
    subject = words[1]
    return subject.lower() in _SUBJECTS or subject[0].isupper()


def _kind(text: str) -> str:
    word = _first_word(text)
    if word in _WH:
        return "wh"
    if word in _AUX and _inverted_subject(text):
        return "yes_no"
    # "So, what ...?", "And did ...?": look one word further.
    rest = re.sub(r"^\W*(so|and|but|then|okay|ok|well|oh|um|uh)\W+", "", text, flags=re.IGNORECASE)
    if rest != text:
        return _kind(rest)
    return "other"


def _is_question(unit: Unit, punctuated: bool) -> bool:
    text = unit.text.rstrip()
    if text.endswith("?"):
        return True
    return not punctuated and len(text.split()) >= 3 and _kind(text) != "other"


def analyze_questions(toolkit, parsed: Parsed) -> QuestionsResult:
    units = parsed.units
    punctuated = "?" in parsed.doc.text
    flags = [_is_question(u, punctuated) for u in units]
    q_ids = [i for i, f in enumerate(flags) if f]
    if not q_ids:
        return QuestionsResult([], 0, 0)

    # One encoding pass for every question and every sentence that might answer one.
    needed = sorted({j for i in q_ids for j in range(i, min(len(units), i + LOOKAHEAD + 1))})
    vecs = dict(zip(needed, toolkit.embedder.embed([units[j].text for j in needed])))
    speakers_known = parsed.doc.has_speakers

    questions: list[Question] = []
    for i in q_ids:
        q = units[i]
        kind = _kind(q.text)
        answer = None
        for j in range(i + 1, min(len(units), i + LOOKAHEAD + 1)):
            cand = units[j]
            if speakers_known and cand.speaker == q.speaker:
                continue  # the asker going on is not an answer
            if flags[j]:
                continue
            score = float(np.dot(vecs[i], vecs[j]))
            if kind == "yes_no" and _YES_NO_REPLY.match(cand.text):
                score = 1.0
            if score >= ANSWER_MIN_SIM:
                answer = Answer(cand.text, cand.start_char, cand.end_char, round(score, 4),
                                cand.speaker, cand.segment)
                break
        questions.append(Question(q.text, q.start_char, q.end_char, kind, answer is not None,
                                  answer, q.speaker, q.segment))
    return QuestionsResult(questions, len(questions), sum(q.answered for q in questions))
