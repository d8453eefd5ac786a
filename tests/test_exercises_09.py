"""Chapter 09's self-checks against wrong answers: they name the mistake only.

Only the chapter's definitions are executed (the imports, the generated helper cell, the ``#@save``
cells, the ``checks`` cells and the answer cells), not its experiments, so this file is fast.
"""

import numpy as np
import pytest
from scipy import special

from exercise_support import chapter_namespace, expect_hint, strict_fails


@pytest.fixture(scope="module")
def ns():
    return chapter_namespace("09_selu")


# ---------------------------------------------------------------- 09.1 selu_moments

MOMENT_ANSWER = ("erfc(", "exp(", "lambda**2", "alpha**2")


def naive_moments(ns):
    """The closed form with exp(a) * erfc(b) taken literally: right, except for large variances."""
    lam, alpha = ns["SELU_LAMBDA"], ns["SELU_ALPHA"]

    def moments(mu, nu, omega=0.0, tau=1.0):
        m, var = np.asarray(mu * omega, float), np.asarray(nu * tau, float)
        s, r = np.sqrt(var), np.sqrt(2 * var)
        above, below = 0.5 * special.erfc(-m / r), 0.5 * special.erfc(m / r)
        dens = s * np.exp(-m * m / (2 * var)) / np.sqrt(2 * np.pi)
        e1 = 0.5 * np.exp(m + var / 2) * special.erfc((m + var) / r)
        e2 = 0.5 * np.exp(2 * m + 2 * var) * special.erfc((m + 2 * var) / r)
        mean = lam * (m * above + dens + alpha * (e1 - below))
        second = lam**2 * ((m * m + var) * above + m * dens + alpha**2 * (e2 - 2 * e1 + below))
        return mean, second - mean**2

    return moments


def moment_variant(ns, transform):
    right = ns["selu_moments"]
    return lambda mu, nu, omega=0.0, tau=1.0: transform(right, mu, nu, omega, tau)


def first_element_only(right, mu, nu, omega, tau):
    mean, var = right(mu, nu, omega, tau)
    return np.full_like(mean, mean.flat[0]), np.full_like(var, var.flat[0])


@pytest.mark.parametrize(
    "transform, part",
    [
        (lambda f, *a: None, "return a pair"),
        (lambda f, *a: f(*a)[0], "return a pair"),
        (lambda f, *a: (np.ones(2) * f(*a)[0], f(*a)[1]), "has shape"),
        (lambda f, *a: (f(*a)[0] * np.nan, f(*a)[1]), "NaN"),
        (lambda f, *a: (f(*a)[0], f(*a)[1] + f(*a)[0] ** 2), "second moment"),
        (lambda f, *a: (-f(*a)[0], f(*a)[1]), "wrong sign"),
        (lambda f, *a: (f(*a)[0] / 1.0507009873554805, f(*a)[1]), "lacks the scale lambda"),
        (lambda f, *a: (f(*a)[0], f(*a)[1] / 1.0507009873554805), "lacks a power"),
        (lambda f, mu, nu, o, t: f(mu, nu, 1.0, 1.0), "also involve omega and tau"),
        (lambda f, *a: (f(*a)[0], f(*a)[1] * 1.01), "Expand the square"),
        (lambda f, *a: (f(*a)[0] + 0.01, f(*a)[1]), "differs from a numerical integration"),
        (first_element_only, "arrays do not"),
    ],
)
def test_moments_wrong_answers(ns, transform, part):
    fn = moment_variant(ns, transform)
    check = lambda: ns["check_selu_moments"](fn)
    expect_hint(ns, check, part, forbidden=MOMENT_ANSWER)
    strict_fails(ns, "09.1", check, part)


def test_moments_overflow_is_named(ns):
    check = lambda: ns["check_selu_moments"](naive_moments(ns))
    expect_hint(ns, check, "not finite", "_ch09_exp_erfc")


def test_moments_right_answer_passes(ns):
    assert ns["self_check"]("09.1", lambda: ns["check_selu_moments"](ns["selu_moments"]), strict=True)
    assert ns["self_check"](
        "09.1",
        lambda: ns["check_selu_moments"](
            ns["selu_moments"], cases=[(2.0, 3.0, 0.8, 0.4)], large=(-0.3, 80.0, 2.0, 5.0)
        ),
        strict=True,
    )


def test_moments_stub_is_not_attempted(ns, capsys):
    def stub(*args):
        raise NotImplementedError("Exercise 09.1: not implemented yet")

    ns["self_check"]("09.1", lambda: ns["check_selu_moments"](stub))
    assert "not attempted yet" in capsys.readouterr().out


# ---------------------------------------------------------------- 09.2 alpha dropout


def dropout_variant(ns, kind="right", backward_kind="right"):
    """A student's alpha dropout with one typical mistake."""
    lam, alpha = ns["SELU_LAMBDA"], ns["SELU_ALPHA"]

    def forward(x, p, training, mask):
        x = np.asarray(x)
        if kind == "none":
            return None
        if not training and kind != "drop_in_eval":
            return x.copy(), (np.ones(x.shape, bool), 1.0)
        q, sat = 1 - p, -lam * alpha
        a = 1 / np.sqrt(q + sat**2 * q * p)
        b = -a * p * sat
        keep = ~mask if kind == "inverted_mask" else mask
        if kind == "zeros":
            out = x * keep / q
        elif kind == "no_a":
            out = np.where(keep, x + b, sat + b)
        elif kind == "no_b":
            out = np.where(keep, a * x, a * sat)
        elif kind == "wrong_dropped":
            out = np.where(keep, a * x + b, a * (-alpha) + b)
        elif kind == "nan":
            out = np.where(keep, a * x + b, np.nan)
        elif kind == "transpose":
            out = np.where(keep, a * x + b, a * sat + b).T.copy()
        else:
            out = np.where(keep, a * x + b, a * sat + b)
        if kind == "to64":
            out = out.astype(np.float64)
        else:
            out = out.astype(x.dtype)
        return out, (keep, a)

    def backward(dout, cache):
        keep, a = cache
        if backward_kind == "no_a":
            return dout * keep
        if backward_kind == "all_units":
            return dout * a
        if backward_kind == "none":
            return None
        return dout * a * keep

    return forward, backward


@pytest.mark.parametrize(
    "kind, backward_kind, part",
    [
        ("none", "right", "return a pair"),
        ("nan", "right", "NaN"),
        ("transpose", "right", "has shape"),
        ("zeros", "right", "ordinary dropout"),
        ("inverted_mask", "right", "wrong way round"),
        ("no_a", "right", "factor a is missing"),
        ("no_b", "right", "check the shift b"),
        ("wrong_dropped", "right", "dropped ones are not"),
        ("drop_in_eval", "right", "evaluation mode"),
        ("to64", "right", "keep x's dtype"),
        ("right", "no_a", "lacks the factor a"),
        ("right", "all_units", "nonzero at dropped units"),
        ("right", "none", "is None"),
    ],
)
def test_alpha_dropout_wrong_answers(ns, kind, backward_kind, part):
    forward, backward = dropout_variant(ns, kind, backward_kind)
    check = lambda: ns["check_alpha_dropout"](forward, backward)
    expect_hint(ns, check, part, forbidden=("1.758", "sqrt(q", "-a * p"))
    strict_fails(ns, "09.2", check, part)


def test_alpha_dropout_right_answers_pass(ns):
    forward, backward = dropout_variant(ns)
    for fw, bw in ((forward, backward), (ns["alpha_dropout_forward"], ns["alpha_dropout_backward"])):
        assert ns["self_check"]("09.2", lambda: ns["check_alpha_dropout"](fw, bw), strict=True)
        assert ns["self_check"](
            "09.2",
            lambda: ns["check_alpha_dropout"](fw, bw, p=0.05, shape=(30, 7, 5), seed=3),
            strict=True,
        )


def test_alpha_dropout_mask_recovery(ns):
    """The checker's mask is torch's: as many dropped units as p predicts, one shared value."""
    x = np.random.default_rng(0).standard_normal((200, 50)) * 2
    out, mask, dx = ns["torch_alpha_dropout"](x, 0.2, seed=1)
    assert abs((~mask).mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / mask.size)
    assert np.ptp(out[~mask]) < 1e-12 and np.all(dx[~mask] == 0) and np.all(dx[mask] > 0)


# ---------------------------------------------------------------- 09.3 dmu_dnu


@pytest.mark.parametrize(
    "transform, part",
    [
        (lambda f, nu, a, l: None, "is None"),
        (lambda f, nu, a, l: f(nu, a, l) * np.nan, "NaN"),
        (lambda f, nu, a, l: f(nu, a, l) * 2 * np.sqrt(nu), "standard deviation"),
        (lambda f, nu, a, l: f(nu, a, l) * 2, "factor of 2"),
        (lambda f, nu, a, l: -f(nu, a, l), "factor of -1"),
        (lambda f, nu, a, l: f(nu, a, l) / l, "lambda is missing"),
        (lambda f, nu, a, l: f(nu, a, l) + 0.01, "numerical derivative"),
        (lambda f, nu, a, l: float(np.mean(f(nu, a, l))), "has shape"),
    ],
)
def test_dmu_dnu_wrong_answers(ns, transform, part):
    right = ns["dmu_dnu"]
    fn = lambda nu, alpha, lam: transform(right, nu, alpha, lam)
    check = lambda: ns["check_dmu_dnu"](fn)
    expect_hint(ns, check, part, forbidden=("erfc", "phi(0)", "0.0888"))
    strict_fails(ns, "09.3", check, part)


def test_dmu_dnu_right_answer_passes(ns):
    assert ns["self_check"]("09.3", lambda: ns["check_dmu_dnu"](ns["dmu_dnu"]), strict=True)


# ---------------------------------------------------------------- 09.4 predict He growth

LAMBDA = 1.0507009873554805


@pytest.mark.parametrize(
    "value, part",
    [
        (None, "returns None"),
        ("fast", "one number"),
        (float("nan"), "not a finite number"),
        (2.0, "linear activation"),
        (1.0, "variance 1/n"),
        (LAMBDA, "standard deviation"),
        (2 * LAMBDA**2, "factor of 2"),
        (1.5, "is off"),
    ],
)
def test_he_growth_wrong_answers(ns, value, part):
    check = lambda: ns["check_he_growth"](lambda: value)
    expect_hint(ns, check, part, forbidden=("1.10", "lambda**2", "lambda^2", "λ²"))
    strict_fails(ns, "09.4", check, part)


def test_he_growth_right_answer_passes(ns):
    assert ns["self_check"]("09.4", lambda: ns["check_he_growth"](ns["predict_he_growth"]), strict=True)
    assert ns["self_check"](
        "09.4", lambda: ns["check_he_growth"](lambda: LAMBDA**2, tolerance=0.005), strict=True
    )


# ---------------------------------------------------------------- 09.5 multiple choice


@pytest.mark.parametrize("letter", ["b", "c", "d", "B "])
def test_dropout_explanation_wrong_letters(ns, letter):
    check = lambda: ns["check_dropout_explanation"](lambda: letter)
    message = expect_hint(ns, check, "is not the best answer")
    assert "(a)" not in message
    strict_fails(ns, "09.5", check, "not the best answer")


@pytest.mark.parametrize("answer", [None, "e", 1, "ab"])
def test_dropout_explanation_invalid(ns, answer):
    expect_hint(ns, lambda: ns["check_dropout_explanation"](lambda: answer), "return one letter")


def test_dropout_explanation_right_letter_passes(ns):
    assert ns["self_check"](
        "09.5", lambda: ns["check_dropout_explanation"](ns["explain_dropout"]), strict=True
    )
