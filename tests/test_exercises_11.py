"""Chapter 11's self-checks against wrong answers: they name the mistake only.

Only the chapter's definitions are executed (the imports, the generated helper cell, the ``#@save``
cells, the ``checks`` cells and the answer cells), not its experiments, so this file is fast.
"""

import numpy as np
import pytest

from exercise_support import chapter_namespace, expect_hint, strict_fails


@pytest.fixture(scope="module")
def ns():
    return chapter_namespace("11_dropout")


# ---------------------------------------------------------------- 11.1 dropout forward/backward

DROPOUT_ANSWER = ("1 / (1 - p)", "1/(1-p)", "/ (1 - p)", "divide")


def dropout_variant(ns, kind="right", backward_kind="right"):
    """A student's inverted dropout with one typical mistake."""

    def forward(x, p, training, mask=None, rng=None):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        if training and mask is None:
            mask = rng.random(x.shape) >= p
        if kind == "none":
            return None
        if kind == "single":
            return x * mask / (1 - p)
        if not training:
            if kind == "drop_in_eval":
                return x * 0.5, (np.ones(x.shape, bool), 1.0)
            return x.copy(), (None, 1.0)
        if kind == "unscaled":
            scale, keep = 1.0, mask
        elif kind == "keep_scaled":
            scale, keep = 1 - p, mask
        elif kind == "p_is_keep":
            scale, keep = 1 / p, mask
        elif kind == "inverted_mask":
            scale, keep = 1 / (1 - p), ~mask
        elif kind == "nan_at_one":
            with np.errstate(all="ignore"):
                scale, keep = 1 / (1 - p) if p < 1 else np.inf, mask
        elif kind == "float64_out":
            s = 0.0 if p == 1 else 1 / (1 - p)
            return x.astype(np.float64) * mask * s, (mask, s)
        elif kind == "transposed":
            return (x * mask / (1 - p)).T, (mask, 1 / (1 - p))
        else:
            scale, keep = (0.0 if p == 1 else 1 / (1 - p)), mask
        with np.errstate(all="ignore"):
            out = (x * (keep * scale)).astype(x.dtype)
        return out, (keep, scale)

    def backward(dout, cache):
        keep, scale = cache
        if keep is None:
            return dout * (0.5 if backward_kind == "eval_scaled" else 1.0)
        if backward_kind == "ignore_mask":
            return dout.copy()
        if backward_kind == "no_scale":
            return dout * keep
        if backward_kind == "none":
            return None
        with np.errstate(all="ignore"):
            return dout * (keep * scale)

    return forward, backward


@pytest.mark.parametrize(
    "kind, backward_kind, part",
    [
        ("none", "right", "should return a pair"),
        ("single", "right", "should return a pair"),
        ("transposed", "right", "has shape"),
        ("unscaled", "right", "passed unchanged"),
        ("keep_scaled", "right", "scaled down"),
        ("p_is_keep", "right", "probability to drop"),
        ("inverted_mask", "right", "True = keep"),
        ("right", "ignore_mask", "dx ignores the mask"),
        ("right", "no_scale", "lacks the forward pass's scale"),
        ("right", "none", "dx is None"),
        ("drop_in_eval", "right", "evaluation mode"),
        ("right", "eval_scaled", "evaluation mode the backward pass"),
        ("nan_at_one", "right", "p = 1"),
        ("float64_out", "right", "float32"),
    ],
)
def test_dropout_wrong_answers(ns, kind, backward_kind, part):
    forward, backward = dropout_variant(ns, kind, backward_kind)
    check = lambda: ns["check_dropout"](forward, backward)
    expect_hint(ns, check, part, forbidden=DROPOUT_ANSWER)
    strict_fails(ns, "11.1", check, part)


def test_dropout_right_answers_pass(ns):
    forward, backward = dropout_variant(ns)
    assert ns["self_check"](
        "11.1", lambda: ns["check_dropout"](forward, backward), strict=True
    )
    for shape, p, seed in (((3, 4, 5), 0.5, 3), ((200,), 0.8, 7), ((4, 6), 0.0, 9)):
        assert ns["self_check"](
            "11.1",
            lambda: ns["check_dropout"](
                ns["dropout_forward"],
                ns["dropout_backward"],
                shape=shape,
                p=p,
                seed=seed,
            ),
            strict=True,
        )


def test_dropout_stub_is_not_attempted(ns, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 11.1: not implemented yet")

    ns["self_check"]("11.1", lambda: ns["check_dropout"](stub, stub))
    assert "not attempted yet" in capsys.readouterr().out


# ---------------------------------------------------------------- 11.2 DropConnect backward


def dropconnect_variant(kind):
    def backward(dout, cache):
        x, W_eff, mask, scale = cache
        shared = mask.ndim == 2
        if shared:
            dx = dout @ W_eff
            dW = (dout.T @ x) * (mask * scale)
        else:
            dx = np.einsum("no,noi->ni", dout, W_eff)
            dW = np.einsum("no,ni,noi->oi", dout, x, mask) * scale
        db = dout.sum(0)
        if kind == "none":
            return None
        if kind == "pair":
            return dx, dW
        if kind == "transposed":
            return dx, dW.T, db
        if kind == "unmasked_dW":
            return dx, dout.T @ x * scale, db
        if kind == "unscaled_dW":
            return dx, dW / scale, db
        if kind == "unscaled_dx":
            return dx / scale, dW, db
        if kind == "mean_db":
            return dx, dW, dout.mean(0)
        if kind == "nan":
            return dx * np.nan, dW, db
        if kind == "per_example_unsummed" and not shared:
            return dx, np.einsum("no,ni,noi->noi", dout, x, mask) * scale, db
        if kind == "shared_only" and not shared:
            return dx, (dout.T @ x) * (mask.mean(0) > 2), db
        return dx, dW, db

    return backward


@pytest.mark.parametrize(
    "kind, per_example, part",
    [
        ("none", False, "should return a triple"),
        ("pair", False, "should return a triple"),
        ("transposed", False, "W transposed"),
        ("unmasked_dW", False, "non-zero for weights that the mask dropped"),
        ("unscaled_dW", False, "dW lacks the scale"),
        ("unscaled_dx", False, "dx lacks the scale"),
        ("mean_db", False, "db is averaged"),
        ("nan", False, "NaN"),
        ("per_example_unsummed", True, "summed over the batch"),
        ("shared_only", True, "one mask per example"),
    ],
)
def test_dropconnect_wrong_answers(ns, kind, per_example, part):
    backward = dropconnect_variant(kind)
    check = lambda: ns["check_dropconnect_backward"](backward, per_example=per_example)
    expect_hint(ns, check, part)
    strict_fails(ns, "11.2", check, part)


def test_dropconnect_right_answers_pass(ns):
    for per_example in (False, True):
        assert ns["self_check"](
            "11.2",
            lambda: ns["check_dropconnect_backward"](
                ns["dropconnect_linear_backward"], per_example=per_example
            ),
            strict=True,
        )
        assert ns["self_check"](
            "11.2",
            lambda: ns["check_dropconnect_backward"](
                dropconnect_variant("right"),
                n=3,
                n_in=2,
                n_out=5,
                p=0.6,
                per_example=per_example,
            ),
            strict=True,
        )


# ---------------------------------------------------------------- 11.3 the variance


VARIANCE_ANSWER = ("(var + mu", "/ (1 - p) - mu", "sigma^2 + mu^2")


@pytest.mark.parametrize(
    "fn, part",
    [
        (lambda mu, var, p: None, "is None"),
        (
            lambda mu, var, p: (
                (np.asarray(var) + np.asarray(mu) ** 2) / (1 - np.asarray(p))
            ),
            "second moment",
        ),
        (lambda mu, var, p: np.asarray(var) / (1 - np.asarray(p)), "mean also enters"),
        (lambda mu, var, p: np.asarray(var) * 1.0, "evaluation-mode variance"),
        (
            lambda mu, var, p: (
                (np.asarray(var) + np.asarray(mu) ** 2) / np.asarray(p)
                - np.asarray(mu) ** 2
            ),
            "swapped",
        ),
        (
            lambda mu, var, p: 2 * np.asarray(var) + np.asarray(mu) ** 2,
            "differs from the exact variance",
        ),
        (lambda mu, var, p: np.asarray(var) * np.nan, "NaN"),
        (
            lambda mu, var, p: float(
                np.ravel(
                    (np.asarray(var) + np.asarray(mu) ** 2) / (1 - np.asarray(p))
                    - np.asarray(mu) ** 2
                )[0]
            ),
            "has shape",
        ),
    ],
)
def test_variance_wrong_answers(ns, fn, part):
    check = lambda: ns["check_dropout_variance"](fn)
    expect_hint(ns, check, part, forbidden=VARIANCE_ANSWER)
    strict_fails(ns, "11.3", check, part)


def test_variance_right_answer_passes(ns):
    assert ns["self_check"](
        "11.3",
        lambda: ns["check_dropout_variance"](ns["inverted_dropout_variance"]),
        strict=True,
    )


# ---------------------------------------------------------------- 11.4 predict the factor


@pytest.mark.parametrize(
    "value, part",
    [
        (None, "returns None"),
        ("a lot", "one number"),
        (np.nan, "not a finite number"),
        (0.5, "one dropout layer"),
        (1.0, "does change the logits"),
        (2.0, "get smaller"),
        (4.0, "get smaller"),
        (0.1, "prediction is off"),
    ],
)
def test_logit_factor_wrong_answers(ns, value, part):
    check = lambda: ns["check_logit_factor"](lambda: value)
    message = expect_hint(ns, check, part)
    assert "0.25" not in message
    strict_fails(ns, "11.4", check, part)


def test_logit_factor_right_answer_passes(ns):
    assert ns["self_check"](
        "11.4",
        lambda: ns["check_logit_factor"](ns["predict_logit_factor"]),
        strict=True,
    )


# ---------------------------------------------------------------- 11.5 multiple choice


@pytest.mark.parametrize("letter", ["a", "b", "d", "A "])
def test_ordering_explanation_wrong_letters(ns, letter):
    check = lambda: ns["check_ordering_explanation"](lambda: letter)
    message = expect_hint(ns, check, "is not the best answer")
    assert "(c)" not in message
    strict_fails(ns, "11.5", check, "not the best answer")


@pytest.mark.parametrize("answer", [None, "e", 1, "cd"])
def test_ordering_explanation_invalid(ns, answer):
    expect_hint(
        ns,
        lambda: ns["check_ordering_explanation"](lambda: answer),
        "return one letter",
    )


def test_ordering_explanation_right_letter_passes(ns):
    assert ns["self_check"](
        "11.5",
        lambda: ns["check_ordering_explanation"](ns["explain_ordering"]),
        strict=True,
    )
