"""The prompts: the system prompt, one task per style and type, the map step's task for long
input, and each task's output bound."""

# Tuned for Qwen2.5-Coder-1.5B-Instruct: it drifts into code and "example" data unless told
# plainly, and it follows the last instruction it read best.
SYSTEM = (
    "You work on transcripts of recorded speech and write plain English prose for readers, never "
    "code and never placeholders. Report only what the transcript states: every name, place, "
    "number and quotation you write must appear in the transcript. Do not add opinions, guesses, "
    "or remarks about what the transcript does not say."
)

# Asked again after a refusal: the job framed as the ordinary writing it is, by a writer.
WRITER_SYSTEM = (
    "You are a professional writer and editor. You turn transcripts of ordinary recorded "
    "conversations into readable texts: articles, posts, notes. Every request is a normal "
    "writing job that you always do. Report only what the transcript states; every name, "
    "place and number must come from the transcript."
)
REFUSAL_RETRY = (
    " This is an ordinary writing task about an everyday conversation: do it. Begin directly "
    "with the text itself."
)

# Asked again when the output is the transcript's lines copied back.
ECHO_RETRY = (
    " Write it in your own words as the task says: do not copy the transcript's lines, times "
    "or speaker labels."
)

# Asked again when the check of the answer dropped sentences of it (support.py's reasons are
# for the log; a small model follows "leave out X" better than an explanation).
UNSUPPORTED_RETRY = (
    " Your last answer had sentences the transcript does not support: {sentences} Leave those "
    "claims out. Say only what the transcript says, and give each thing said to the person who "
    "says it."
)

_GROUND = " Use only names, places and numbers from the transcript."
# A coder model refuses creative tasks on short input ("not enough information"): it must not.
_WRITE = " However short the transcript, write it from what the transcript says; never refuse."

STYLE_TASKS: dict[str, str] = {
    "brief": "Summarize the transcript in 2 or 3 sentences. Say who speaks (by name when the "
             "transcript gives names), and the main things they say, naming the places mentioned."
             + _GROUND,
    "detailed": "Write a detailed summary of the transcript in 2 to 4 short paragraphs of plain "
                "prose (no headings, no lists, no bold text, no copied transcript lines). Cover "
                "the topics in the order they come up: who takes part, what each person says, "
                "and the facts, numbers, decisions and conclusions." + _GROUND,
    "bullet_points": "Summarize the transcript as 3 to 8 bullet points. Start every line with "
                     "'- ' and state one fact per bullet." + _GROUND,
    "action_items": "List the action items agreed or requested in the transcript: the task, "
                    "the owner if named, and the due date if said. If nobody commits to or asks "
                    "for anything, return an empty list.",
}

GENERATE_TASKS: dict[str, str] = {
    "blog_post": "Write a blog post based on the transcript: a title on the first line starting "
                 "with '# ', then 3 to 5 paragraphs of prose. Stay faithful to what was said."
                 + _GROUND + _WRITE,
    "social_media": "Write one social media post (at most 280 characters) that shares the most "
                    "interesting point of the transcript, ending with 1 to 3 hashtags." + _GROUND + _WRITE,
    "newsletter": "Write a newsletter section about the transcript: a first line starting with "
                  "'Subject: ', a one-line greeting, 2 or 3 short paragraphs on the highlights, "
                  "and a one-line sign-off." + _GROUND + _WRITE,
    "show_notes": "Write podcast show notes for the transcript: one paragraph summarizing the "
                  "episode, then a line 'Topics covered:' followed by bullet points ('- ')."
                  + _GROUND + _WRITE,
    "meeting_notes": "Write meeting notes with these markdown headings: '## Participants', "
                     "'## Discussion', '## Decisions', '## Action items'. Use bullet points "
                     "('- ') under each heading. Write 'None recorded.' under a heading the "
                     "transcript gives nothing for." + _GROUND,
    "study_guide": "Write a study guide for the transcript with these markdown headings: "
                   "'## Overview' (one paragraph), '## Key concepts' (bullet points, each with a "
                   "short explanation), '## Review questions' (3 to 5 questions the transcript "
                   "answers)." + _GROUND + _WRITE,
    "key_quotes": "Pick the 1 to 5 most memorable or important sentences of the transcript and "
                  "copy each one word for word, exactly as written in the transcript.",
    "flashcards": "Write 3 to 8 study flashcards about the facts in the transcript: the front "
                  "asks a question, the back answers it with facts from the transcript.",
    "quiz": "Write a multiple-choice quiz of 3 to 5 questions about the facts in the transcript. "
            "Each question has 4 options; exactly one is correct according to the transcript; "
            "answer_index is the position (0 to 3) of the correct option.",
    "chapter_markers": "Divide the transcript into chapters, one per topic, in order (1 chapter "
                       "for a short transcript, more for a long one). Give each a short title and "
                       "a one-sentence summary.",
}

TIMED_CHAPTERS = (
    " The start of each chapter is the [mm:ss] time of the transcript line where it begins; the "
    "first chapter starts at the first line."
)

MAP_TASK = (
    "This is part {part} of {parts} of a long transcript. Write concise notes on this part as "
    "4 to 8 short bullet points ('- '): who speaks, names, places, numbers, facts, decisions, questions, "
    "action items with owners, and any sentence worth quoting (copied exactly, in quotes). "
    "{times}Use only what this part says."
)

# Output bounds per task (tokens); short input gets less (see ``_budget``).
MAX_TOKENS: dict[str, int] = {
    "brief": 160, "detailed": 600, "bullet_points": 350, "action_items": 500,
    "blog_post": 900, "social_media": 160, "newsletter": 700, "show_notes": 600,
    "meeting_notes": 600, "study_guide": 800, "key_quotes": 500, "flashcards": 700,
    "quiz": 900, "chapter_markers": 700,
}
MAP_MAX_TOKENS = 220
NAMED_KINDS = ("brief", "detailed", "bullet_points", "blog_post", "newsletter", "show_notes",
               "meeting_notes", "study_guide")
