"""Wrong answers to chapter 05's exercises get the right hint, and the right answers pass.

Only what the checkers need is executed (exercise_support.chapter_namespace): the imports, the
generated helpers, the exported cells, the answer cells and the ``checks`` cells; nothing trains.
Each checker is fed typical wrong answers (None, a wrong shape, a transpose, a factor 2, NaN, the
exercise's typical mistakes) and must raise ``Hint`` with the message that names the mistake, without
giving the answer away; the right answer must pass.
"""


import numpy as np
import pytest

from exercise_support import chapter_namespace, expect_hint

STEM = "05_input_normalization"
NS = chapter_namespace(STEM)


def hint(check, *parts, forbidden=()):
    return expect_hint(NS, check, *parts, forbidden=forbidden)


def passes(exercise, check):
    assert NS["self_check"](exercise, check, strict=True) is True


# ---------------------------------------------------------------- 05.1: fit_standardizer


def standardizer(mistake=None):
    def fit(X):
        if mistake == "none":
            return None
        if mistake == "single":
            return X.mean(axis=0)
        if mistake == "inplace":
            X -= X.mean(axis=0)
            return X.mean(axis=0), np.ones(X.shape[1])
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        std = np.where(std < 1e-12, 1.0, std)
        if mistake == "axis":
            return X.mean(axis=1), X.std(axis=1)
        if mistake == "keepdims":
            return X.mean(axis=0, keepdims=True), std[None]
        if mistake == "ddof":
            return mean, np.where(std == 1.0, 1.0, X.std(axis=0, ddof=1))
        if mistake == "var":
            return mean, np.where(std == 1.0, 1.0, std**2)
        if mistake == "zero":
            return mean, X.std(axis=0)
        if mistake == "nan":
            return mean, std * np.nan
        if mistake == "factor2":
            return mean, 2 * std
        if mistake == "median":
            return np.median(X, axis=0), std
        return mean, std

    return fit


@pytest.mark.parametrize(
    "mistake, part",
    [
        ("none", "returns None"),
        ("single", "return a pair"),
        ("inplace", "in place"),
        ("axis", "has shape"),
        ("keepdims", "has shape"),
        ("ddof", "unbiased"),
        ("var", "variance of each column"),
        ("zero", "divide by zero"),
        ("nan", "NaN"),
        ("factor2", "differs from StandardScaler"),
        ("median", "mean is not"),
    ],
)
def test_standardizer_hints(mistake, part):
    hint(lambda: NS["check_standardizer"](standardizer(mistake)), part,
         forbidden=["ddof=0", "np.std", "X.std"])


def test_standardizer_right_answers_pass():
    passes("05.1", lambda: NS["check_standardizer"](standardizer()))
    passes("05.1", lambda: NS["check_standardizer"](NS["fit_standardizer"], seed=2, n=200, d=12))


# ---------------------------------------------------------------- 05.2: fit_whitener


def whitener(mistake=None):
    def fit(X, method="zca", eps=1e-5):
        if mistake == "none":
            return None
        n = len(X)
        mean = X.mean(axis=0)
        centered = X - mean if mistake != "uncentered" else X
        cov = centered.T @ centered / (n - 1 if mistake == "unbiased" else n)
        lam, U = np.linalg.eigh(cov)
        if mistake != "increasing":
            lam, U = lam[::-1], U[:, ::-1]
        power = 1.0 if mistake == "variance" else 0.5
        W = U.T / ((lam + (0.0 if mistake == "noeps" else eps)) ** power)[:, None]
        if (method == "zca") != (mistake == "swap"):
            W = U @ W
        if mistake == "transpose":
            W = W.T
        if mistake == "factor2":
            W = 2 * W
        if mistake == "nan":
            W = W * np.nan
        return mean, W

    return fit


@pytest.mark.parametrize(
    "mistake, method, part",
    [
        ("none", "zca", "returns None"),
        ("nan", "zca", "NaN"),
        ("transpose", "pca", "transposed"),
        ("unbiased", "zca", "unbiased covariance"),
        ("uncentered", "pca", "uncentered data"),
        ("noeps", "zca", "no eps"),
        ("variance", "pca", "1/variance"),
        ("swap", "zca", "symmetric W"),
        ("swap", "pca", "which is what ZCA gives"),
        ("increasing", "pca", "increasing"),
        ("factor2", "zca", "does not have a covariance"),
    ],
)
def test_whitener_hints(mistake, method, part):
    hint(lambda: NS["check_whitener"](whitener(mistake), method), part,
         forbidden=["U @", "np.linalg.eigh", "sqrt(eigen"])


@pytest.mark.parametrize("method", ["zca", "pca"])
def test_whitener_right_answers_pass(method):
    passes("05.2", lambda: NS["check_whitener"](whitener(), method))
    passes("05.2", lambda: NS["check_whitener"](NS["fit_whitener"], method, seed=3, n=200, d=7,
                                                eps=1e-5))


# ---------------------------------------------------------------- 05.3: worst_contraction


@pytest.mark.parametrize(
    "answer, part",
    [
        (lambda lr, lam: None, "returns None"),
        (lambda lr, lam: np.abs(1 - lr * lam), "one number"),
        (lambda lr, lam: np.nan, "not a finite number"),
        (lambda lr, lam: np.max(1 - lr * lam), "Look at the sign"),
        (lambda lr, lam: np.min(np.abs(1 - lr * lam)), "fastest"),
        (lambda lr, lam: np.max(np.abs(1 - 2 * lr * lam)), "factor 2"),
        (lambda lr, lam: np.max((1 - lr * lam) ** 2), "squared"),
        (lambda lr, lam: 2 * np.max(np.abs(1 - lr * lam)), "Work out one step"),
    ],
)
def test_contraction_hints(answer, part):
    hint(lambda: NS["check_contraction"](answer), part, forbidden=["abs(1 - "])


def test_contraction_right_answer_passes():
    passes("05.3", lambda: NS["check_contraction"](NS["worst_contraction"]))


# ---------------------------------------------------------------- 05.4: predict_steps


def bound_prediction(kappa, tol):  # the section-2 bound: ignores the start and the first step
    return np.ceil(np.log(tol) / (2 * np.log1p(-1 / kappa)))


@pytest.mark.parametrize(
    "answer, part",
    [
        (lambda k, t: None, "returns None"),
        (lambda k, t: "many", "return one number"),
        (lambda k, t: -5, "non-negative"),
        (lambda k, t: k * NS["run_steps"](k, t), "kappa squared"),
        (lambda k, t: 2 * NS["run_steps"](k, t), "square of the"),
        (lambda k, t: 0.5 * NS["run_steps"](k, t), "not of the loss"),
        (lambda k, t: np.log(10) * NS["run_steps"](k, t), "base 10"),
        (bound_prediction, "Follow each of the two components"),
    ],
)
def test_predict_steps_hints(answer, part):
    message = hint(lambda: NS["check_predict_steps"](answer), part)
    assert "458" not in message


def test_predict_steps_right_answer_passes():
    passes("05.4", lambda: NS["check_predict_steps"](NS["predict_steps"]))
    passes("05.4", lambda: NS["check_predict_steps"](lambda k, t: NS["run_steps"](k, t) + 1))


# ---------------------------------------------------------------- 05.5: multiple choice


@pytest.mark.parametrize(
    "answer, part",
    [
        ("A", "random batches of the same sizes"),
        ("c", "The split is random"),
        (" D ", "does not need exactly those numbers"),
        ("E", "return one letter"),
        (None, "return one letter"),
        ("", "return one letter"),
    ],
)
def test_reason_wrong_options(answer, part):
    hint(lambda: NS["check_reason"](lambda: answer), part)


def test_reason_right_option_passes():
    passes("05.5", lambda: NS["check_reason"](NS["own_stats_reason"]))
