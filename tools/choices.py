"""Keys for multiple-choice exercises: ``python -m tools choice-key``.

A key lets a notebook's checker (``check_choice`` in ``nbhelpers``) give each option's feedback
without showing, to a student who reads the collapsed checker cell, which option is right: the
feedback is base64 text filed under a salted hash of its letter, and the right letter is stored as
another salted hash.
"""

import base64
import hashlib
import json
import pprint


def _digest(exercise, text):
    return hashlib.sha256(f"{exercise}:{text}".encode()).hexdigest()[:16]


def choice_key(exercise, right, feedback):
    """The key for ``check_choice``: ``feedback`` maps each letter to its explanation."""
    letters = "".join(sorted(letter.lower() for letter in feedback))
    if len(letters) < 2 or not letters.isalpha() or len(set(letters)) != len(letters):
        raise ValueError(f"feedback needs two or more distinct single letters, got {sorted(feedback)}")
    if right.lower() not in letters:
        raise ValueError(f"the right letter {right!r} is not one of the options {letters!r}")
    encoded = {}
    for letter, text in feedback.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"option {letter!r} has no feedback text")
        blob = base64.b64encode(text.strip().encode()).decode()
        encoded[_digest(exercise, letter.lower())] = tuple(blob[i:i + 60] for i in range(0, len(blob), 60))
    return {"exercise": exercise, "letters": letters, "right": _digest(exercise, "right:" + right.lower()),
            "feedback": dict(sorted(encoded.items()))}  # in hash order: the order tells no letter


def key_source(name, key):
    """Python source that assigns ``key`` to ``name``, formatted to fit a notebook cell."""
    return f"{name} = {pprint.pformat(key, width=84, sort_dicts=False)}\n"


def main(exercise, right, feedback_path, name):
    with open(feedback_path, encoding="utf-8") as handle:
        feedback = json.load(handle)
    if not isinstance(feedback, dict):
        raise ValueError(f"{feedback_path}: expected a JSON object mapping letters to feedback text")
    return key_source(name, choice_key(exercise, right, feedback))
