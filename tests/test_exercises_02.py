"""Wrong answers to chapter 02's exercises get the right hint, and right answers pass.

Only the generated helper cell, the imports, the chapter code the checkers call (the
plain-stack measurement and the activations that are not exercises) and the ``checks``
cells of solutions/02_gradients.ipynb are executed, never the whole chapter.
"""

import math
import warnings

import nbformat
import numpy as np
import pytest
from scipy.special import erf, expit

from conftest import ROOT
import exercise_support
from tools import sync

PATH = ROOT / "solutions" / "02_gradients.ipynb"
BETA = math.sqrt(2 / math.pi)
C = 0.044715


def _namespace():
    nb = nbformat.read(str(PATH), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    chosen = [code[0]]  # the imports
    chosen += [c for c in code if sync.GENERATED_TAG in c.metadata.get("tags", [])]
    chosen += [c for c in code if c.source.startswith("def plain_stack_grads")]
    chosen += [
        c
        for c in code
        if sync.EXPORT_START_RE.match(c.source) and "def sigmoid_forward" in c.source
    ]
    chosen += [c for c in code if sync.CHECKS_TAG in c.metadata.get("tags", [])]
    assert len(chosen) == 4 + 5, (
        "expected imports, helpers, two chapter cells and five checks cells"
    )
    ns = {}
    for cell in chosen:
        assert sync.BEGIN_SOLUTION not in cell.source, (
            "a checker depends on an exercise's answer"
        )
        exec(compile(cell.source, str(PATH), "exec"), ns)
    ns["limit_threads"]()  # small arrays: as in the chapter, one thread is fastest
    return ns


NS = _namespace()


def hint_of(check):
    return exercise_support.hint_of(NS, check)


def strict_fails(exercise, check):
    return exercise_support.strict_failure(NS, exercise, check)


def no_answer_in(message, *forbidden):
    for piece in forbidden:
        assert piece not in message, f"the hint gives away {piece!r}: {message}"


# ------------------------------------------ Exercise 02.1: GELU


def _phi(x):
    return 0.5 * (1 + erf(x / np.sqrt(2)))


def _pdf(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def gelu_pair(
    forward_exact=None,
    forward_tanh=None,
    slope_exact=None,
    slope_tanh=None,
    use_dout=True,
    transpose_dx=False,
    cast=True,
):
    """A GELU forward/backward pair with any piece replaced by a wrong one."""
    f_exact = forward_exact or (lambda x: x * _phi(x))
    f_tanh = forward_tanh or (lambda x: 0.5 * x * (1 + np.tanh(BETA * (x + C * x**3))))

    def right_tanh_slope(x):
        t = np.tanh(BETA * (x + C * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * BETA * (1 + 3 * C * x * x)

    s_exact = slope_exact or (lambda x: _phi(x) + x * _pdf(x))
    s_tanh = slope_tanh or right_tanh_slope

    def fwd(x, approximate="none"):
        x = np.asarray(x)
        out = (f_exact if approximate == "none" else f_tanh)(x)
        if cast and out is not None:
            out = np.asarray(out).astype(x.dtype)
        return out, (x, approximate)

    def bwd(dout, cache):
        x, approximate = cache
        local = (s_exact if approximate == "none" else s_tanh)(x)
        dx = dout * local if use_dout else local
        return dx.T if transpose_dx else dx

    return fwd, bwd


def check_gelu(pair, **kwargs):
    return lambda: NS["check_gelu"](*pair, **kwargs)


GELU_FORBIDDEN = (
    "0.5 * x",
    "x * pdf",
    "cdf + x",
    "erf(x / ",
    "sqrt(2)",
    "Phi(x) + x",
    "0.7978",
)


def test_gelu_right_answer_passes():
    assert NS["self_check"]("02.1", check_gelu(gelu_pair()), strict=True)
    assert NS["self_check"](
        "02.1", check_gelu(gelu_pair(), shape=(3, 7), seed=1), strict=True
    )
    assert NS["self_check"](
        "02.1", check_gelu(gelu_pair(), shape=(50,), seed=2), strict=True
    )


def test_gelu_stub_is_not_attempted(capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 02.1: not implemented yet")

    NS["self_check"]("02.1", lambda: NS["check_gelu"](stub, stub))
    assert "Exercise 02.1: not attempted yet" in capsys.readouterr().out
    assert "not attempted yet" in strict_fails(
        "02.1", lambda: NS["check_gelu"](stub, stub)
    )


@pytest.mark.parametrize(
    "pair, expected",
    [
        (gelu_pair(forward_exact=lambda x: None, cast=False), "is None"),
        (gelu_pair(forward_exact=lambda x: (x * _phi(x)).ravel()), "has shape (24,)"),
        (gelu_pair(forward_exact=lambda x: (x * _phi(x)).T), "has shape (6, 4)"),
        (gelu_pair(forward_exact=lambda x: x * _phi(x) + np.nan), "NaN or infinite"),
        (gelu_pair(forward_exact=lambda x: 2 * x * _phi(x)), "twice torch's"),
        (gelu_pair(forward_exact=lambda x: x * _phi(x) / 2), "half of torch's"),
        (
            gelu_pair(forward_exact=lambda x: 0.5 * x * (1 + erf(x))),
            "scaling of erf's argument",
        ),
        (
            gelu_pair(
                forward_exact=lambda x: 0.5 * x * (1 + np.tanh(BETA * (x + C * x**3)))
            ),
            "that output is the tanh approximation",
        ),
        (
            gelu_pair(forward_tanh=lambda x: x * _phi(x)),
            "that output is the exact form",
        ),
        (gelu_pair(forward_exact=lambda x: -x * _phi(x)), "wrong sign"),
        (
            gelu_pair(forward_exact=lambda x: x * _phi(x) + 1e-3 * (x > 10)),
            "differs from torch's, first",
        ),
        (gelu_pair(transpose_dx=True), "has shape (6, 4)"),
        (gelu_pair(use_dout=False), "does not depend on dout"),
        (
            gelu_pair(slope_exact=lambda x: 2 * (_phi(x) + x * _pdf(x))),
            "off by a factor of 2",
        ),
        (gelu_pair(slope_exact=lambda x: -(_phi(x) + x * _pdf(x))), "wrong sign"),
        (gelu_pair(slope_exact=_phi), "has only one term"),
        (
            gelu_pair(slope_exact=lambda x: _phi(x) - x * _pdf(x)),
            "second term of the product rule",
        ),
        (
            gelu_pair(slope_exact=lambda x: _phi(x) + x * _pdf(x) * np.sqrt(2 * np.pi)),
            "lacks its normalization",
        ),
        (
            gelu_pair(slope_exact=lambda x: _phi(x) + x * _pdf(x) + np.nan),
            "NaN or infinite",
        ),
        (
            gelu_pair(
                slope_tanh=lambda x: (
                    0.5 * (1 + np.tanh(BETA * (x + C * x**3)))
                    + 0.5 * x * (1 - np.tanh(BETA * (x + C * x**3)) ** 2) * BETA
                )
            ),
            "disagrees with finite differences of your forward",
        ),  # the cubic's derivative left out
        (
            gelu_pair(slope_tanh=lambda x: _phi(x) + x * _pdf(x)),
            "derivative of the other form, 'none'",
        ),
        (
            gelu_pair(slope_tanh=lambda x: 0.5 * (1 + np.tanh(BETA * (x + C * x**3)))),
            "has only one term",
        ),
        (
            gelu_pair(
                slope_exact=lambda x: (
                    _phi(x) + x * _pdf(x) + 1e-3 * np.sin(x) * (np.abs(x) < 5)
                )
            ),
            "disagrees with finite differences of your forward",
        ),
        (
            gelu_pair(
                cast=False, forward_exact=lambda x: (x * _phi(x)).astype(np.float64)
            ),
            "keep the input's dtype",
        ),
    ],
)
def test_gelu_wrong_answers_get_the_right_hint(pair, expected):
    message = hint_of(check_gelu(pair))
    assert expected in message, message
    no_answer_in(message, *GELU_FORBIDDEN)
    assert expected in strict_fails("02.1", check_gelu(pair))


def test_gelu_not_a_pair_and_overflow():
    fwd, bwd = gelu_pair()
    assert "return a pair (out, cache)" in hint_of(
        check_gelu((lambda x, approximate="none": fwd(x, approximate)[0], bwd))
    )

    def overflowing(
        x, approximate="none"
    ):  # the sigmoid approximation, written naively
        x = np.asarray(x)
        return x / (1 + np.exp(-1.702 * x)), (x, approximate)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = hint_of(check_gelu((overflowing, bwd)))
    assert "numerical warning" in message and "overflow" in message


# ------------------------------------------ Exercise 02.2: softplus


def softplus_pair(forward=None, slope=None):
    def right(x, beta, threshold):
        z = beta * x
        return np.where(
            z > threshold, x, (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
        )

    def right_slope(x, beta, threshold):
        z = beta * x
        return np.where(z > threshold, 1.0, expit(z))

    forward, slope = forward or right, slope or right_slope

    def fwd(x, beta=1.0, threshold=20.0):
        return forward(np.asarray(x), beta, threshold), (np.asarray(x), beta, threshold)

    def bwd(dout, cache):
        return dout * slope(*cache)

    return fwd, bwd


def test_softplus_right_answer_passes():
    for kwargs in (
        {},
        {"beta": 2.5, "threshold": 5.0, "seed": 1},
        {"beta": 0.5, "seed": 2},
    ):
        assert NS["self_check"](
            "02.2",
            lambda kwargs=kwargs: NS["check_softplus"](*softplus_pair(), **kwargs),
            strict=True,
        )


def _right_softplus(x, beta, threshold):
    return softplus_pair()[0](x, beta, threshold)[0]


@pytest.mark.parametrize(
    "pair, expected",
    [
        (softplus_pair(forward=lambda x, b, t: None), "is None"),
        (
            softplus_pair(forward=lambda x, b, t: _right_softplus(x, b, t)[:, None]),
            "has shape (26, 1)",
        ),
        (
            softplus_pair(forward=lambda x, b, t: _right_softplus(x, b, t) * np.nan),
            "NaN or infinite",
        ),
        (
            softplus_pair(forward=lambda x, b, t: _right_softplus(x, b, t) / b),
            "off by the factor beta",
        ),
        (
            softplus_pair(forward=lambda x, b, t: 2 * _right_softplus(x, b, t)),
            "forward output differs",
        ),
        (
            softplus_pair(forward=lambda x, b, t: np.log1p(np.exp(b * x)) / b),
            "numerical warning",
        ),
        (
            softplus_pair(
                forward=lambda x, b, t: np.where(b * x < t, x, _right_softplus(x, b, t))
            ),
            "Check the threshold rule",
        ),
        (softplus_pair(slope=lambda x, b, t: 2 * expit(b * x)), "dx differs"),
        (softplus_pair(slope=lambda x, b, t: expit(x)), "dx differs"),
        (
            softplus_pair(slope=lambda x, b, t: expit(b * x)[:, None]),
            "dx has shape (26, 26)",
        ),
    ],
)
def test_softplus_wrong_answers_get_the_right_hint(pair, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = hint_of(lambda: NS["check_softplus"](*pair, beta=2.5, threshold=5.0))
    assert expected in message, message
    no_answer_in(message, "log1p", "sigmoid(", "1 / (1 + ")


# ------------------------------------------ Exercise 02.3: critical std


def right_std(width, slope):
    return np.sqrt(2.0 / ((1 + slope**2) * width))


def test_critical_std_right_answer_passes():
    check = NS["check_critical_std"]
    assert NS["self_check"](
        "02.3", lambda: check(right_std, cases=((96, 0.7), (48, 0.01))), strict=True
    )


@pytest.mark.parametrize(
    "answer, expected",
    [
        (lambda w, a: None, "is None"),
        (lambda w, a: np.nan, "NaN or infinite"),
        (lambda w, a: np.array([right_std(w, a)] * 2), "return a single number"),
        (lambda w, a: -right_std(w, a), "a standard deviation is positive"),
        (lambda w, a: np.sqrt(2.0 / (1 + a**2)), "off by about sqrt(width)"),
        (
            lambda w, a: np.sqrt(2.0 / w),
            "measured per-layer gain is",
        ),  # the slope ignored
        (lambda w, a: 2 * right_std(w, a), "measured per-layer gain is"),
        (
            lambda w, a: np.sqrt(2.0 / ((1 + a) * w)),
            "measured per-layer gain is",
        ),  # a, not a squared
    ],
)
def test_critical_std_wrong_answers_get_the_right_hint(answer, expected):
    message = hint_of(lambda: NS["check_critical_std"](answer, cases=((64, 0.5),)))
    assert expected in message, message
    no_answer_in(message, "1 + a^2", "1 + a**2", "2 / ")


# ------------------------------------------ Exercise 02.4: dead fraction


def _inactive(bias):
    return 0.5 * (1 + erf(-bias / np.sqrt(2)))


def test_dead_fraction_right_answer_passes():
    check = NS["check_dead_fraction"]
    right = lambda b, n: _inactive(b) ** n
    assert NS["self_check"]("02.4", lambda: check(right), strict=True)
    assert NS["self_check"](
        "02.4", lambda: check(right, cases=((-1.5, 20), (-2.5, 5))), strict=True
    )


@pytest.mark.parametrize(
    "answer, expected",
    [
        (lambda b, n: None, "is None"),
        (lambda b, n: np.nan, "NaN or infinite"),
        (lambda b, n: np.zeros(2), "return a single number"),
        (lambda b, n: 1.5, "not a fraction in [0, 1]"),
        (lambda b, n: _inactive(b), "inactive on one input"),  # forgot the power n
        (lambda b, n: (1 - _inactive(b)) ** n, "check the sign"),
        (lambda b, n: 1 - _inactive(b) ** n, "check the sign"),
        (lambda b, n: min(1.0, 2 * _inactive(b) ** n), "the measurement is"),
    ],
)
def test_dead_fraction_wrong_answers_get_the_right_hint(answer, expected):
    message = hint_of(lambda: NS["check_dead_fraction"](answer, cases=((-2.0, 10),)))
    assert expected in message, message
    no_answer_in(message, "** n", "^n", "erf(")


# ------------------------------------------ Exercise 02.5: multiple choice



@pytest.mark.parametrize("letter", ["a", "c", "d", " A ", "C"])
def test_multiple_choice_wrong_letters_are_explained(letter):
    message = hint_of(lambda: NS["check_explanation"](lambda: letter))
    assert "is not the best answer" in message
    assert "not the best answer" in strict_fails(
        "02.5", lambda: NS["check_explanation"](lambda: letter)
    )


def test_multiple_choice_each_wrong_letter_has_its_own_reason():
    reasons = {
        letter: hint_of(lambda c=letter: NS["check_explanation"](lambda: c))
        for letter in "acd"
    }
    assert len(set(reasons.values())) == 3
    assert (
        "learning rate" in reasons["a"]
        and "0.7" in reasons["c"]
        and "validation" in reasons["d"]
    )


@pytest.mark.parametrize("answer", [None, "e", "bc", 2, ""])
def test_multiple_choice_invalid_answers(answer):
    assert "return one letter" in hint_of(
        lambda: NS["check_explanation"](lambda: answer)
    )


def test_multiple_choice_right_letter_passes(capsys):
    assert NS["self_check"](
        "02.5", lambda: NS["check_explanation"](lambda: "b"), strict=True
    )
    assert "residual" in capsys.readouterr().out
