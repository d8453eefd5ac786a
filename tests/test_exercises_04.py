"""Wrong answers to chapter 04's exercises get the right hint, never a traceback.

Only the generated helper cell, the imports, the chapter's reference functions (the exported
clipping cell, ``cosine``) and the ``checks`` cells of solutions/04_clipping.ipynb are executed,
not the whole chapter. Each checker is fed typical wrong answers (None, wrong shape, transposed,
a factor 2, NaN, a missing eps, the exercise's typical mistakes) and must raise ``Hint`` with the
message that names the mistake; the right answer must pass.
"""

import ast
import math

import nbformat
import numpy as np
import pytest
from conftest import ROOT
from tools import sync
from exercise_support import strict_failure

PATH = ROOT / "solutions" / "04_clipping.ipynb"


def _definitions(source, names):
    """Only the top-level ``def``s of ``source`` named in ``names``."""
    tree = ast.parse(source)
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    return ast.unparse(ast.Module(body=keep, type_ignores=[]))


@pytest.fixture(scope="module")
def ns():
    nb = nbformat.read(str(PATH), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    namespace = {"__name__": "chapter04"}
    exec(code[0].source, namespace)  # imports
    generated = next(
        c for c in code if "generated-helpers" in c.metadata.get("tags", [])
    )
    exec(generated.source, namespace)
    for cell in code:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if sync.EXPORT_START_RE.match(cell.source) and "def clip_grad_norm" in cell.source:
            exec(cell.source, namespace)  # the reference answer of Exercise 04.1
        elif "def cosine" in cell.source:
            exec(_definitions(cell.source, {"cosine"}), namespace)
        elif grade_id.endswith("_solution"):
            exec(cell.source, namespace)  # the other exercises' reference answers
    for cell in code:
        if "checks" in cell.metadata.get("tags", []):
            exec(cell.source, namespace)
    return namespace


def expect_hint(ns, exercise, check, fragment, forbidden=()):
    message = strict_failure(ns, exercise, check)
    assert "not yet right" in message, message  # a Hint, not the student's code failing
    assert fragment in message, message
    for text in forbidden:
        assert text not in message, f"the hint gives the answer away: {message}"
    return message


# ---------------------------------------------------------------- Exercise 04.1: clip_grad_norm


def wrong_clip(ns, mistake):
    """A clip_grad_norm with one typical mistake."""
    right = ns["clip_grad_norm"]

    def fn(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
        grads = [np.asarray(g) for g in grads]
        flat = np.concatenate([g.ravel() for g in grads]) if grads else np.zeros(0)
        if mistake == "none":
            return None
        if mistake == "per_tensor":
            out = [right([g], max_norm, norm_type)[0][0] for g in grads]
            return out, right(grads, max_norm, norm_type)[1]
        if mistake == "no_eps":
            total = float(np.linalg.norm(flat, norm_type)) if grads else 0.0
            coef = min(1.0, max_norm / total) if total else 1.0
            return [g * coef for g in grads], total
        if mistake == "scale_up":
            total = float(np.linalg.norm(flat, norm_type)) if grads else 0.0
            coef = max_norm / (total + 1e-6)
            return [g * coef for g in grads], total
        if mistake == "matrix_inf" and norm_type == math.inf:
            total = max(
                np.linalg.norm(g, np.inf) if g.ndim == 2 else np.max(np.abs(g))
                for g in grads
            )
            coef = min(1.0, max_norm / (total + 1e-6))
            return [g * coef for g in grads], float(total)
        if mistake == "power_inf" and norm_type == math.inf:
            with np.errstate(all="ignore"):
                total = float(np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type))
            return [g.copy() for g in grads], total
        if mistake == "always_2" and grads:
            total = float(np.linalg.norm(flat))
            coef = min(1.0, max_norm / (total + 1e-6))
            return [g * coef for g in grads], total
        clipped, total = right(grads, max_norm, norm_type, error_if_nonfinite)
        if mistake == "clipped_norm" and grads:
            return clipped, min(total, max_norm)
        if mistake == "wrong_shape":
            return [c.ravel() for c in clipped], total
        if mistake == "transposed":
            return [c.T for c in clipped], total
        if mistake == "factor_2":
            return [2 * c for c in clipped], total
        if mistake == "nan":
            return [c * np.nan for c in clipped], total
        if mistake == "value_clip":
            return [np.clip(g, -max_norm, max_norm) for g in grads], total
        if mistake == "float64":
            return [c.astype(np.float64) for c in clipped], total
        if mistake == "in_place":
            for g, c in zip(grads, clipped):
                g[...] = c
            return clipped, total
        return clipped, total

    def no_raise(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
        with np.errstate(all="ignore"):
            return right(grads, max_norm, norm_type, False)

    def special_case(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
        clipped, total = right(grads, max_norm, norm_type, error_if_nonfinite)
        if not math.isfinite(total):
            return [np.asarray(g).copy() for g in grads], total
        return clipped, total

    return {"no_raise": no_raise, "special_case": special_case}.get(mistake, fn)


@pytest.mark.parametrize(
    "mistake, fragment",
    [
        ("none", "returned None"),
        ("wrong_shape", "has shape"),
        ("transposed", "has shape"),
        ("factor_2", "differ from torch"),
        ("nan", "NaN"),
        ("no_eps", "1e-6"),
        ("per_tensor", "its own norm"),
        ("scale_up", "never scales a gradient up"),
        ("matrix_inf", "matrix norm"),
        ("power_inf", "own branch"),
        ("always_2", "whatever norm_type says"),
        ("clipped_norm", "norm after clipping"),
        ("value_clip", "clipped by value"),
        ("float64", "float32"),
        ("in_place", "modified"),
        ("no_raise", "RuntimeError"),
        ("special_case", "without special cases"),
    ],
)
def test_clip_grad_norm_mistakes(ns, mistake, fragment):
    fn = wrong_clip(ns, mistake)
    expect_hint(
        ns, "04.1", lambda: ns["check_clip_grad_norm"](fn), fragment, ["0.999999"]
    )


def test_clip_grad_norm_right_answer_passes(ns):
    for seed in (0, 1, 2):
        assert ns["self_check"](
            "04.1",
            lambda seed=seed: ns["check_clip_grad_norm"](
                ns["clip_grad_norm"], seed=seed
            ),
            strict=True,
        )


def test_clip_grad_norm_stub_is_not_attempted(ns):
    def stub(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
        raise NotImplementedError("Exercise 04.1: not implemented yet")

    with pytest.raises(AssertionError, match="not attempted yet"):
        ns["self_check"]("04.1", lambda: ns["check_clip_grad_norm"](stub), strict=True)


# ---------------------------------------------------------------- Exercise 04.2: per tensor


def per_tensor(mistake):
    def fn(grads, clipnorm):
        out = []
        for g in grads:
            norm = float(np.sqrt(np.sum(g * g)))
            out.append(g * (clipnorm / max(norm, clipnorm)))
        if mistake == "none":
            return None
        if mistake == "short":
            return out[:-1]
        if mistake == "transposed":
            return [o.T for o in out]
        if mistake == "factor_2":
            return [2 * o for o in out]
        if mistake == "nan":
            return [o * np.nan for o in out]
        if mistake == "global":
            flat = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
            return [g * min(1.0, clipnorm / (flat + 1e-6)) for g in grads]
        if mistake == "value":
            return [np.clip(g, -clipnorm, clipnorm) for g in grads]
        if mistake == "scale_all":
            return [
                g * clipnorm / max(float(np.sqrt(np.sum(g * g))), 1e-12) for g in grads
            ]
        if mistake == "in_place":
            for g, o in zip(grads, out):
                g[...] = o
            return out
        if mistake == "zero_nan":
            with np.errstate(all="ignore"):
                return [g * (clipnorm / np.sqrt(np.sum(g * g))) for g in grads]
        return out

    return fn


@pytest.mark.parametrize(
    "mistake, fragment",
    [
        ("none", "None"),
        ("short", "one array per gradient"),
        ("transposed", "has shape"),
        ("factor_2", "should have norm"),
        ("nan", "NaN"),
        ("global", "global clipping"),
        ("value", "clipped by value"),
        ("scale_all", "returned unchanged"),
        ("in_place", "modified"),
        ("zero_nan", "NaN"),
    ],
)
def test_per_tensor_mistakes(ns, mistake, fragment):
    fn = per_tensor(mistake)
    expect_hint(ns, "04.2", lambda: ns["check_per_tensor"](fn), fragment)


def test_per_tensor_right_answer_passes(ns):
    for clipnorm, seed in [(1.0, 0), (0.3, 1), (5.0, 2)]:
        assert ns["self_check"](
            "04.2",
            lambda c=clipnorm, s=seed: ns["check_per_tensor"](
                per_tensor("right"), clipnorm=c, seed=s
            ),
            strict=True,
        )


# ---------------------------------------------------------------- Exercise 04.3: worst cosine


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (lambda n: None, "None"),
        (lambda n: np.ones(2) / math.sqrt(n), "has shape"),
        (lambda n: float("nan"), "NaN"),
        (lambda n: 2 / math.sqrt(n), "always in (0, 1]"),
        (lambda n: 1 / n, "greatest lower bound"),
        (lambda n: n**-0.25, "below your bound"),
        (lambda n: 1.0, "below your bound"),
    ],
)
def test_worst_cosine_mistakes(ns, answer, fragment):
    expect_hint(ns, "04.3", lambda: ns["check_worst_cosine"](answer), fragment)


def test_worst_cosine_right_answer_passes(ns):
    assert ns["self_check"](
        "04.3", lambda: ns["check_worst_cosine"](ns["worst_cosine"]), strict=True
    )


# ---------------------------------------------------------------- Exercise 04.4: predict


RIGHT_PREDICTION = {
    "l2": (13.0, [1.5, 2.0]),
    "inf": (12.0, [3.0, 4.0]),
    "nonfinite": (math.inf, [0.0, math.nan]),
}


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda p: None, "should return a dict"),
        (lambda p: {k: v for k, v in p.items() if k != "inf"}, "no entry 'inf'"),
        (lambda p: {**p, "l2": "13"}, "should be a pair"),
        (lambda p: {**p, "l2": (13.0, [1.5, 2.0, 0.0])}, "has two entries"),
        (
            lambda p: {**p, "l2": (5.0, [0.6, 0.8])},
            "case 'l2': the total norm",
        ),  # per tensor
        (
            lambda p: {**p, "l2": (13.0, [3.0, 4.0])},
            "case 'l2': the clipped first",
        ),  # factor 2
        (lambda p: {**p, "inf": (12.0, [6.0, 8.0])}, "never scales up"),
        (lambda p: {**p, "inf": (19.0, [3.0, 4.0])}, "case 'inf': the total norm"),
        (lambda p: {**p, "nonfinite": (math.inf, [1.0, math.inf])}, "case 'nonfinite'"),
        (lambda p: {**p, "nonfinite": (math.nan, [0.0, math.nan])}, "case 'nonfinite'"),
    ],
)
def test_predict_mistakes(ns, change, fragment):
    answer = change(dict(RIGHT_PREDICTION))
    expect_hint(ns, "04.4", lambda: ns["check_predict_clip"](lambda: answer), fragment)


def test_predict_right_answer_passes(ns):
    assert ns["self_check"](
        "04.4", lambda: ns["check_predict_clip"](ns["predict_clip"]), strict=True
    )


# ---------------------------------------------------------------- Exercise 04.5: multiple choice


@pytest.mark.parametrize(
    "answer, fragment",
    [
        ("A", "Count the clipped steps"),
        ("b", "one positive number"),
        (" D ", "keeps the direction exactly"),
        ("E", "return one letter"),
        (None, "return one letter"),
        ("", "return one letter"),
    ],
)
def test_reason_wrong_options(ns, answer, fragment):
    expect_hint(ns, "04.5", lambda: ns["check_reason"](lambda: answer), fragment)


def test_reason_right_option_passes(ns):
    assert ns["self_check"](
        "04.5", lambda: ns["check_reason"](ns["clipping_reason"]), strict=True
    )
