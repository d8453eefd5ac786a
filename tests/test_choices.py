"""Multiple-choice exercises: the shared checker, its encoder, and every such exercise in the book."""

import base64
import json
import re
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT
from exercise_support import chapter_namespace
from tools import choices, nbhelpers, sync

FEEDBACK = {
    "a": "Too small: look at the first table.",
    "b": "Yes: the second table shows it.",
    "c": "The third option ignores the learning rate.",
}


def hint(check, error=nbhelpers.Hint):
    with pytest.raises(error) as err:
        check()
    return str(err.value)


def test_right_letter_prints_its_explanation(capsys):
    key = choices.choice_key("99.1", "B", FEEDBACK)
    for answer in ("b", " B ", "B"):
        nbhelpers.check_choice(answer, key)
        assert capsys.readouterr().out.strip() == "(b): Yes: the second table shows it."


@pytest.mark.parametrize("letter", ["a", "c", " C "])
def test_wrong_letter_gets_its_own_feedback(letter):
    message = hint(lambda: nbhelpers.check_choice(letter, choices.choice_key("99.1", "b", FEEDBACK)))
    own = letter.strip().lower()
    assert message.startswith(f"({own}) is not the best answer.")
    assert FEEDBACK[own] in message
    assert FEEDBACK["b"] not in message


@pytest.mark.parametrize("answer", [None, 2, "", "d", "ab", "b c", ["b"]])
def test_an_answer_that_is_no_option_is_told_so(answer):
    message = hint(lambda: nbhelpers.check_choice(answer, choices.choice_key("99.1", "b", FEEDBACK)))
    assert message.startswith("return one letter, 'a', 'b' or 'c' (either case), as a string")


def test_the_key_shows_neither_the_texts_nor_the_right_letter():
    key = choices.choice_key("99.1", "b", FEEDBACK)
    source = choices.key_source("KEY", key)
    for text in FEEDBACK.values():
        assert text not in source
    assert "'b'" not in source and '"b"' not in source
    # the feedback is filed in hash order, so its order does not give the letters away either
    assert list(key["feedback"]) == sorted(key["feedback"])
    namespace = {}
    exec(source, namespace)
    assert namespace["KEY"] == key
    # the same texts under another exercise id give other hashes
    assert choices.choice_key("99.2", "b", FEEDBACK)["right"] != key["right"]


@pytest.mark.parametrize(
    ("right", "feedback", "part"),
    [
        ("e", FEEDBACK, "is not one of the options"),
        ("a", {"a": "only one"}, "two or more distinct single letters"),
        ("a", {"a": "x", "bb": "y"}, "two or more distinct single letters"),
        ("a", {"a": "x", "b": "  "}, "option 'b' has no feedback text"),
    ],
)
def test_bad_keys_are_refused(right, feedback, part):
    with pytest.raises(ValueError, match=re.escape(part)):
        choices.choice_key("99.1", right, feedback)


def test_the_command_prints_a_key_that_checks(tmp_path, capsys):
    path = tmp_path / "feedback.json"
    path.write_text(json.dumps(FEEDBACK), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tools", "choice-key", "99.1", "--right", "c", "--feedback", str(path),
         "--name", "CHOICE_KEY_99_1"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    namespace = {}
    exec(result.stdout, namespace)
    nbhelpers.check_choice("c", namespace["CHOICE_KEY_99_1"])
    assert "(c): The third option" in capsys.readouterr().out
    bad = subprocess.run(
        [sys.executable, "-m", "tools", "choice-key", "99.1", "--right", "z", "--feedback", str(path)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert bad.returncode == 2 and "error: the right letter 'z' is not one of the options" in bad.stderr


def multiple_choice_exercises():
    """(chapter stem, key name, checker name, answer function name) of every multiple-choice exercise."""
    found = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if sync.CHECKS_TAG not in cell.metadata.get("tags", []) or "check_choice(" not in cell.source:
                continue
            for checker, key in re.findall(r"def (check_\w+)\(fn\):\n\s+check_choice\(fn\(\), (\w+)\)", cell.source):
                calls = [c.source for c in nb.cells if c.cell_type == "code" and "self_check(" in c.source
                         and f"{checker}(" in c.source and "BEGIN HIDDEN TESTS" not in c.source]
                answer = re.search(rf"{checker}\((\w+)\)", calls[0]).group(1)
                found.append(pytest.param(path.stem, key, checker, answer, id=f"{path.stem[:2]}-{checker}"))
    return found


def test_every_multiple_choice_exercise_uses_the_shared_checker():
    stems = {param.values[0][:2] for param in multiple_choice_exercises()}
    assert {"02", "03", "04", "05", "07", "08", "09"} <= stems


@pytest.mark.parametrize(("stem", "key_name", "checker", "answer"), multiple_choice_exercises())
def test_multiple_choice_exercise(stem, key_name, checker, answer, capsys):
    ns = chapter_namespace(stem)
    key, check = ns[key_name], ns[checker]
    right = ns[answer]().strip().lower()
    ns["check_choice"](right, key)  # the solution's letter passes and explains itself
    assert capsys.readouterr().out.startswith(f"({right}): ")
    reasons = {letter: hint(lambda c=letter: check(lambda: c), ns["Hint"])
               for letter in key["letters"] if letter != right}
    assert len(set(reasons.values())) == len(reasons) >= 2, "each wrong option has its own feedback"
    assert "return one letter" in hint(lambda: check(lambda: None), ns["Hint"])
    # the lesson's checker cell holds none of the texts in the clear and singles out no letter
    lesson = nbformat.read(str(ROOT / "lessons" / f"{stem}.ipynb"), as_version=4)
    source = next(c.source for c in lesson.cells if f"def {checker}(" in c.source and key_name in c.source)
    for blob in key["feedback"].values():
        text = base64.b64decode("".join(blob)).decode()
        assert text not in source and text[:40] not in source
    assert len({source.count(f'"{c}"') + source.count(f"'{c}'") for c in key["letters"]}) == 1
