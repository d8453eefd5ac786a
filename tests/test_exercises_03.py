"""Chapter 03's self-checks against wrong answers: they name the mistake only.

Only the chapter's definitions are executed (the imports, the generated helper cell,
the ``#@save`` cells, the ``checks`` cells and the answer cells), not its experiments,
so this file is fast.
"""

import json
import math

import numpy as np
import pytest
from conftest import ROOT

from tools import sync
from exercise_support import chapter_namespace, expect_hint, strict_failure

CHAPTER = ROOT / "solutions" / "03_initialization.ipynb"


def _cells():
    nb = json.loads(CHAPTER.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def ns():
    return chapter_namespace("03_initialization")


expect = expect_hint


def strict_fails(ns, exercise, check, part):
    """As the hidden tests run it (self_check, strict=True): CheckFailed, the hint."""
    message = strict_failure(ns, exercise, check)
    assert part in message, message


# ---------------------------------------------------------------- 03.1 fans and gains

FAN_ANSWER = ("shape[1] *", "shape[0] *", "prod(")
GAIN_ANSWER = ("5/3", "5.0 / 3", "1.66", "0.75", "3/4", "0.01", "1.41", "sqrt(2")


def fans(ns, transform):
    right = ns["calculate_fan_in_and_fan_out"]
    return lambda shape: transform(tuple(shape), *right(shape))


@pytest.mark.parametrize(
    "transform, part",
    [
        (lambda s, i, o: None, "returned None"),
        (lambda s, i, o: (i, o, 1), "got 3 values"),
        (lambda s, i, o: i, "should return a pair"),
        (lambda s, i, o: (o, i), "swapped"),
        (lambda s, i, o: (s[1], s[0]), "the kernel is missing"),
        (lambda s, i, o: (i, s[0]), "fan_out is missing the kernel"),
        (
            lambda s, i, o: (s[1] * s[2], s[0] * s[2]) if len(s) > 3 else (i, o),
            "only one kernel dimension",
        ),
        (lambda s, i, o: (2 * i, o), "off by a factor of 2"),
        (lambda s, i, o: (i, o / 2), "off by a factor of 2"),
        (lambda s, i, o: (float("nan"), o), "NaN"),
        (lambda s, i, o: (str(i), o), "two integers"),
        (lambda s, i, o: (i + 1, o), "not the one torch.nn.init uses"),
    ],
)
def test_fans_wrong_answers(ns, transform, part):
    fn = fans(ns, transform)
    check = lambda: ns["check_fans_gains"](fn, ns["calculate_gain"])
    expect(ns, check, part, forbidden=FAN_ANSWER)
    strict_fails(ns, "03.1", check, part)


def gains(ns, transform):
    right = ns["calculate_gain"]
    return lambda name, param=None: transform(name, param, right(name, param))


@pytest.mark.parametrize(
    "transform, part",
    [
        (lambda n, p, g: None, "is None"),
        (lambda n, p, g: float("nan"), "NaN"),
        (lambda n, p, g: np.ones(2) * g, "shape"),
        (lambda n, p, g: g * g, "factor on the variance"),
        (
            lambda n, p, g: math.sqrt(2.0) if (n, p) == ("leaky_relu", None) else g,
            "default negative slope",
        ),
        (
            lambda n, p, g: (
                math.sqrt(2.0 / (1 + (0.01 if p is None else p)))
                if n == "leaky_relu"
                else g
            ),
            "enters the second moment squared",
        ),
        (lambda n, p, g: 2 * g if n == "leaky_relu" else g, "leaky ReLU keeps"),
        (lambda n, p, g: 1.0 if n == "tanh" else g, "empirical value for tanh"),
        (lambda n, p, g: 1.0 if n == "selu" else g, "empirical value for selu"),
        (lambda n, p, g: 1.0 if n == "relu" else g, "ReLU keeps half"),
        (lambda n, p, g: math.sqrt(2.0) if n == "conv2d" else g, "like a linear layer"),
    ],
)
def test_gains_wrong_answers(ns, transform, part):
    fn = gains(ns, transform)
    check = lambda: ns["check_fans_gains"](ns["calculate_fan_in_and_fan_out"], fn)
    expect(ns, check, part, forbidden=GAIN_ANSWER)
    strict_fails(ns, "03.1", check, part)


def test_fans_gains_right_answer_passes(ns):
    assert ns["self_check"](
        "03.1",
        lambda: ns["check_fans_gains"](
            ns["calculate_fan_in_and_fan_out"], ns["calculate_gain"]
        ),
        strict=True,
    )


def test_fans_gains_stub_is_not_attempted(ns, capsys):
    def stub(*args):
        raise NotImplementedError("Exercise 03.1: not implemented yet")

    ns["self_check"]("03.1", lambda: ns["check_fans_gains"](stub, stub))
    assert "not attempted yet" in capsys.readouterr().out


# ---------------------------------------------------------------- 03.2 orthogonal


def orthogonal_variant(ns, transform):
    right = ns["orthogonal"]
    return lambda shape, rng, gain=1.0: transform(shape, rng, gain, right)


def unsigned_orthogonal(shape, rng, gain):
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.standard_normal((rows, cols))
    q, _ = np.linalg.qr(a.T if rows < cols else a)
    return gain * (q.T if rows < cols else q).reshape(shape)


@pytest.mark.parametrize(
    "transform, part",
    [
        (lambda s, r, g, f: None, "is None"),
        (lambda s, r, g, f: f(s, r, g).reshape(s[0], -1).T, "has shape"),
        (lambda s, r, g, f: f(s, r, g) * np.nan, "NaN"),
        (lambda s, r, g, f: r.standard_normal(s) * g, "not orthogonal"),
        (lambda s, r, g, f: f(s, r, 1.0), "not multiplied by gain"),
        (lambda s, r, g, f: 2 * f(s, r, g), "not orthogonal"),
        (lambda s, r, g, f: f(s, np.random.default_rng(0), g), "the rng you are given"),
        (lambda s, r, g, f: unsigned_orthogonal(s, r, g), "signs of R"),
    ],
)
def test_orthogonal_wrong_answers(ns, transform, part):
    fn = orthogonal_variant(ns, transform)
    check = lambda: ns["check_orthogonal"](fn)
    expect(ns, check, part, forbidden=("np.linalg.qr", "np.sign(np.diag"))
    strict_fails(ns, "03.2", check, part)


def test_orthogonal_right_answer_passes(ns):
    assert ns["self_check"](
        "03.2", lambda: ns["check_orthogonal"](ns["orthogonal"]), strict=True
    )


# -------------------------------------------------------- 03.3 default_init_factor


def factor_variant(ns, transform):
    right = ns["default_init_factor"]
    return lambda a: transform(a, right(a))


@pytest.mark.parametrize(
    "transform, part",
    [
        (lambda a, f: None, "is None"),
        (lambda a, f: float("nan"), "NaN"),
        (lambda a, f: np.array([f, f]), "has shape"),
        (lambda a, f: 2 * f, "factor of 2"),
        (lambda a, f: (1 + a**2) / 2, "factor of 3"),  # forgot Var(U(-b, b)) = b^2 / 3
        (lambda a, f: 1 / f, "reciprocal"),
        (lambda a, f: (1 + a) / 6, "the measured factor is about"),  # slope not squared
    ],
)
def test_default_factor_wrong_answers(ns, transform, part):
    fn = factor_variant(ns, transform)
    check = lambda: ns["check_default_factor"](fn)
    expect(ns, check, part, forbidden=("/ 6", "1/6", "(1 + a^2)"))
    strict_fails(ns, "03.3", check, part)


def test_default_factor_right_answer_passes(ns):
    assert ns["self_check"](
        "03.3",
        lambda: ns["check_default_factor"](ns["default_init_factor"]),
        strict=True,
    )


# ---------------------------------------------------------------- 03.4 predict_fans


def fans_variant(ns, **changes):
    right = ns["predict_fans"]()
    return lambda: {**right, **changes}


@pytest.mark.parametrize(
    "make, part",
    [
        (lambda ns: lambda: None, "should return a dict"),
        (
            lambda ns: (
                lambda: {k: v for k, v in ns["predict_fans"]().items() if k != "conv"}
            ),
            "no entry 'conv'",
        ),
        (lambda ns: fans_variant(ns, linear=(100, 300)), "swapped"),
        (lambda ns: fans_variant(ns, conv=(16, 32)), "every kernel position"),
        (lambda ns: fans_variant(ns, grouped=(240, 480)), "groups"),
        (lambda ns: fans_variant(ns, transposed=(144, 288)), "ConvTranspose2d"),
        (lambda ns: fans_variant(ns, linear=300), "pair of integers"),
        (lambda ns: fans_variant(ns, conv=(float("nan"), 288)), "pair of integers"),
    ],
)
def test_predict_fans_wrong_answers(ns, make, part):
    fn = make(ns)
    check = lambda: ns["check_fans"](fn)
    expect(ns, check, part, forbidden=("(60", "480", "(288", "(144"))
    strict_fails(ns, "03.4", check, part)


def test_predict_fans_right_answer_passes(ns):
    assert ns["self_check"](
        "03.4", lambda: ns["check_fans"](ns["predict_fans"]), strict=True
    )


# ---------------------------------------------------------------- 03.5 multiple choice


@pytest.mark.parametrize(
    "answer, part",
    [
        ("A", "does not saturate"),
        ("c", "random weights"),
        (" D ", "too large makes the loss jump"),
        ("E", "one letter"),
        (None, "one letter"),
        ("AB", "one letter"),
    ],
)
def test_stall_wrong_answers(ns, answer, part):
    check = lambda: ns["check_stall"](lambda: answer)
    expect(ns, check, part)
    strict_fails(ns, "03.5", check, part)


def test_stall_right_answer_passes(ns):
    assert ns["self_check"](
        "03.5", lambda: ns["check_stall"](ns["stall_reason"]), strict=True
    )


def test_stall_checker_source_gives_nothing_away():
    checks = [
        "".join(c["source"])
        for c in _cells()
        if sync.CHECKS_TAG in c["metadata"].get("tags", [])
        and "check_stall" in "".join(c["source"])
    ]
    assert len(checks) == 1
    source = checks[0]
    for phrase in ("saturate", "symmetry", "NaN", "second moment", "mechanism"):
        assert phrase not in source, phrase
    for letter in "ABCD":  # no option is singled out by name
        assert f'"{letter}":' not in source and f"'{letter}':" not in source
