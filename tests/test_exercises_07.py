"""Wrong answers to chapter 07's exercises get the right hint, never a traceback or the answer.

Only the imports, the generated helper cell, the exported cells, the answer cells and the ``checks``
cells of solutions/07_why_batch_norm.ipynb run (``exercise_support.chapter_namespace``), not the
chapter's experiments. Each checker is fed typical wrong answers and must raise ``Hint`` naming the
mistake; the right answers pass.
"""

import numpy as np
import pytest

from exercise_support import chapter_namespace, expect_hint, strict_failure

STEM = "07_why_batch_norm"


@pytest.fixture(scope="module")
def ns():
    return chapter_namespace(STEM)


def passes(ns, exercise, check):
    assert ns["self_check"](exercise, check, strict=True) is True


# ---------------------------------------------------------------- 07.1: landscape_along_gradient


def landscape_variant(mistake):
    def fn(loss_and_grad, theta, step_sizes):
        step_sizes = np.asarray(step_sizes, dtype=float)
        if mistake == "none":
            return None
        _, g = loss_and_grad(theta.copy())
        sign = 1.0 if mistake == "uphill" else -1.0
        losses, changes = [], []
        for eta in step_sizes:
            loss, g2 = loss_and_grad(theta + sign * eta * g)
            losses.append(loss)
            changes.append(np.linalg.norm(g2 - g))
        changes = np.array(changes)
        ratios = changes / (step_sizes * np.linalg.norm(g))
        result = {
            "loss": np.array(losses),
            "grad_change": changes,
            "beta": ratios.max(),
        }
        if mistake == "missing key":
            del result["beta"]
        elif mistake == "squared":
            result["grad_change"] = changes**2
        elif mistake == "per step size":
            result["beta"] = np.max(changes / step_sizes)
        elif mistake == "mean":
            result["beta"] = ratios.mean()
        elif mistake == "in place":
            theta -= 0.1 * g
        elif mistake == "column":
            result["loss"] = result["loss"][:, None]
        elif mistake == "nan":
            result["grad_change"] = changes * np.nan
        elif mistake == "list":
            return [result["loss"], result["grad_change"], result["beta"]]
        return result

    return fn


@pytest.mark.parametrize(
    "mistake, fragment",
    [
        ("none", "return a dict"),
        ("list", "return a dict"),
        ("missing key", "lacks the key"),
        ("uphill", "*up* the gradient"),
        ("squared", "squared distances"),
        ("per step size", "divides by the step size"),
        ("mean", "average of the ratios"),
        ("in place", "changed in place"),
        ("column", "shape"),
        ("nan", "NaN"),
    ],
)
def test_landscape_mistakes(ns, mistake, fragment):
    expect_hint(ns, lambda: ns["check_landscape"](landscape_variant(mistake)), fragment)


def test_landscape_right_answer_passes(ns):
    passes(ns, "07.1", lambda: ns["check_landscape"](landscape_variant("right")))
    passes(
        ns,
        "07.1",
        lambda: ns["check_landscape"](ns["landscape_along_gradient"], seed=3),
    )


def test_landscape_stub_is_not_attempted(ns):
    def stub(loss_and_grad, theta, step_sizes):
        raise NotImplementedError("Exercise 07.1: not implemented yet")

    message = strict_failure(ns, "07.1", lambda: ns["check_landscape"](stub))
    assert "not attempted yet" in message


# ---------------------------------------------------------------- 07.2: noisy_batchnorm_forward


def noisy_variant(ns, mistake):
    bn = ns["batchnorm_forward"]

    def fn(x, gamma, beta, rmean, rvar, scale, shift, training, momentum=0.1, eps=1e-5):
        C = x.shape[1]
        if mistake != "no check":
            for name, noise in (("noise_scale", scale), ("noise_shift", shift)):
                if np.shape(noise) not in ((C,), x.shape):
                    raise ValueError(f"{name} has the wrong shape")
        if mistake == "none":
            return None
        if mistake == "before":
            out, cache, m, v = bn(x * scale + shift, gamma, beta, rmean, rvar, training)
            return out, (cache, scale), m, v
        out, cache, m, v = bn(x, gamma, beta, rmean, rvar, training, momentum, eps)
        if mistake == "no noise":
            return out, (cache, scale), m, v
        if mistake == "shift scaled":
            return (out + shift) * scale, (cache, scale), m, v
        if mistake == "swapped":
            return out * shift + scale, (cache, scale), m, v
        if mistake == "noisy stats":
            _, _, m, v = bn(out * scale + shift, gamma, beta, rmean, rvar, training)
        if mistake == "cache":
            return out * scale + shift, cache, m, v
        if mistake == "three":
            return out * scale + shift, m, v
        return out * scale + shift, (cache, scale), m, v

    return fn


@pytest.mark.parametrize(
    "mistake, fragment",
    [
        ("none", "return the tuple"),
        ("three", "return the tuple"),
        ("no noise", "no noise in it"),
        ("before", "before the normalization"),
        ("shift scaled", "scale first"),
        ("swapped", "swapped"),
        ("noisy stats", "running statistics"),
        ("cache", "the pair"),
        ("no check", "should name noise_scale"),
    ],
)
def test_noisy_bn_mistakes(ns, mistake, fragment):
    expect_hint(ns, lambda: ns["check_noisy_bn"](noisy_variant(ns, mistake)), fragment)


def test_noisy_bn_right_answer_passes(ns):
    passes(ns, "07.2", lambda: ns["check_noisy_bn"](noisy_variant(ns, "right")))
    passes(
        ns,
        "07.2",
        lambda: ns["check_noisy_bn"](ns["noisy_batchnorm_forward"], per_example=True),
    )


# ---------------------------------------------------------------- 07.3: equilibrium_norm


def norm_exact(lr, wd, c):
    return (lr**2 * c**2 / (1 - (1 - lr * wd) ** 2)) ** 0.25


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (lambda lr, wd, c: None, "returns None"),
        (lambda lr, wd, c: "abc", "one number"),
        (lambda lr, wd, c: np.nan, "finite"),
        (lambda lr, wd, c: norm_exact(lr, wd, c) ** 2, "squared norm"),
        (lambda lr, wd, c: (lr * c**2 / (2 * wd)) ** 0.25, "was dropped"),
        (lambda lr, wd, c: norm_exact(lr, wd, c) / lr**0.5, "power of lr"),
        (lambda lr, wd, c: 2 * norm_exact(lr, wd, c), "does not settle"),
    ],
)
def test_equilibrium_mistakes(ns, answer, fragment):
    message = expect_hint(ns, lambda: ns["check_equilibrium"](answer), fragment)
    assert "1 - (1 -" not in message and "**" not in message


def test_equilibrium_right_answer_passes(ns):
    passes(ns, "07.3", lambda: ns["check_equilibrium"](norm_exact))


# ---------------------------------------------------------------- 07.4: matching_learning_rate


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (lambda lr, a: None, "returns None"),
        (lambda lr, a: np.nan, "finite"),
        (lambda lr, a: lr, "too slowly"),
        (lambda lr, a: a * lr, "too slowly"),
        (lambda lr, a: a**3 * lr, "too fast"),
        (lambda lr, a: lr / a**2, "too slowly"),
    ],
)
def test_matching_lr_mistakes(ns, answer, fragment):
    message = expect_hint(ns, lambda: ns["check_matching_lr"](answer), fragment)
    assert "0.9" not in message  # the right value for lr 0.1, a 3


def test_matching_lr_right_answer_passes(ns):
    passes(ns, "07.4", lambda: ns["check_matching_lr"](lambda lr, a: a**2 * lr))


# ---------------------------------------------------------------- 07.5: the multiple choice


@pytest.mark.parametrize(
    "answer, fragment",
    [
        ("A", "per step"),
        ("C", "drawn anew"),
        ("d", "strength 0.5"),
        ("E", "return one letter"),
        (None, "return one letter"),
    ],
)
def test_reason_wrong_options(ns, answer, fragment):
    expect_hint(ns, lambda: ns["check_reason"](lambda: answer), fragment)


def test_reason_right_option_passes(ns):
    passes(ns, "07.5", lambda: ns["check_reason"](lambda: " b "))
