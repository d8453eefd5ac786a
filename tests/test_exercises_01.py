"""Chapter 01's self-checks against wrong answers: each names the mistake and never the answer.

Only the chapter's definitions are executed (the generated helper cell, the imports, the ``#@save``
cells, the ``checks`` cells and the answer cells), not its experiments, so this file is fast.
"""

import numpy as np
import pytest

from exercise_support import chapter_namespace, expect_hint


@pytest.fixture(scope="module")
def ns():
    return chapter_namespace("01_training")


expect = expect_hint


# ---------------------------------------------------------------- 01.1 linear_backward

LINEAR_ANSWER = ("dout @ W", "dout.T @ x", "sum(axis=0)")


def linear(ns, transform):
    right = ns["linear_backward"]
    return lambda dout, cache: transform(dout, cache, *right(dout, cache))


@pytest.mark.parametrize(
    "transform, part",
    [
        (lambda d, c, dx, dW, db: None, "return a tuple of three"),
        (lambda d, c, dx, dW, db: (None, dW, db), "dx is None"),
        (lambda d, c, dx, dW, db: (dx, dW.T, db), "dW is transposed"),
        (
            lambda d, c, dx, dW, db: (dx, dW, d.sum(axis=1)),
            "db has one entry per example",
        ),
        (lambda d, c, dx, dW, db: (dx[:, :-1], dW, db), "dx has shape"),
        (lambda d, c, dx, dW, db: (dx, 2 * dW, db), "dW differs from autograd's"),
        (
            lambda d, c, dx, dW, db: (dx, dW, db / len(d)),
            "db is 1/N of the right value",
        ),
        (
            lambda d, c, dx, dW, db: (dx, dW / len(d), db),
            "dW is 1/N of the right value",
        ),
        (lambda d, c, dx, dW, db: (-dx, dW, db), "dx has the wrong sign"),
        (lambda d, c, dx, dW, db: (dx * np.nan, dW, db), "NaN"),
        (
            lambda d, c, dx, dW, db: (
                dx.astype(np.float64),
                dW.astype(np.float64),
                db.astype(np.float64),
            ),
            "keep the inputs' dtype",
        ),
    ],
)
def test_linear_backward_wrong_answers(ns, transform, part):
    fn = linear(ns, transform)
    expect(ns, lambda: ns["check_linear_backward"](fn), part, forbidden=LINEAR_ANSWER)


def test_linear_backward_right_answer(ns):
    ns["check_linear_backward"](ns["linear_backward"])
    assert ns["self_check"](
        "01.1", lambda: ns["check_linear_backward"](ns["linear_backward"]), strict=True
    )


# ---------------------------------------------------------------- 01.2 softmax_cross_entropy


def naive_ce(logits, targets):
    n = len(targets)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), targets]).mean()
    d = probs.copy()
    d[np.arange(n), targets] -= 1
    return loss, d / n


def ce(ns, transform):
    right = ns["softmax_cross_entropy"]
    return lambda z, t: transform(z, t, *right(z, t))


def column_softmax_ce(logits, targets):
    shifted = logits - logits.max(axis=0, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    n = len(targets)
    return -log_probs[np.arange(n), targets].mean(), np.zeros_like(logits)


@pytest.mark.parametrize(
    "fn, part",
    [
        (lambda ns: ce(ns, lambda z, t, loss, d: None), "return a pair"),
        (lambda ns: ce(ns, lambda z, t, loss, d: (None, d)), "loss is None"),
        (
            lambda ns: ce(ns, lambda z, t, loss, d: (loss, d[:, :-1])),
            "dlogits has shape",
        ),
        (lambda ns: ce(ns, lambda z, t, loss, d: (loss, d.T)), "dlogits is transposed"),
        (
            lambda ns: ce(ns, lambda z, t, loss, d: (loss * len(t), d)),
            "the batch's sum",
        ),
        (lambda ns: ce(ns, lambda z, t, loss, d: (-loss, d)), "wrong sign"),
        (lambda ns: ce(ns, lambda z, t, loss, d: (2 * loss, d)), "PyTorch's is"),
        (
            lambda ns: ce(ns, lambda z, t, loss, d: (loss, d * len(t))),
            "N times too large",
        ),
        (
            lambda ns: ce(ns, lambda z, t, loss, d: (loss, -d)),
            "dlogits has the wrong sign",
        ),
        (
            lambda ns: ce(ns, lambda z, t, loss, d: (loss, 2 * d)),
            "the loss is right but dlogits",
        ),
        (lambda ns: ce(ns, lambda z, t, loss, d: (loss, d * np.nan)), "NaN"),
        (
            lambda ns: ce(
                ns,
                lambda z, t, loss, d: (loss.astype(np.float64), d.astype(np.float64)),
            ),
            "keep the logits' dtype",
        ),
        (lambda ns: naive_ce, "overflows"),
        (lambda ns: column_softmax_ce, "wrong axis"),
    ],
)
def test_softmax_cross_entropy_wrong_answers(ns, fn, part):
    answer = fn(ns)
    expect(
        ns,
        lambda: ns["check_softmax_cross_entropy"](answer),
        part,
        forbidden=("max(axis=1", "logsumexp", "- 1"),
    )


def test_softmax_only_gradient_is_named(ns):
    def no_target(z, t):
        loss, d = ns["softmax_cross_entropy"](z, t)
        d = d.copy()
        d[np.arange(len(t)), t] += 1 / len(t)
        return loss, d

    expect(ns, lambda: ns["check_softmax_cross_entropy"](no_target), "only the softmax")


def test_softmax_cross_entropy_right_answer(ns):
    ns["check_softmax_cross_entropy"](ns["softmax_cross_entropy"])
    ns["check_softmax_cross_entropy"](
        ns["softmax_cross_entropy"], n=3, k=10, scale=30.0, seed=5
    )


# ---------------------------------------------------------------- 01.3 adam_step


def adam_variant(
    ns,
    correct=True,
    eps_inside=False,
    decay="l2",
    sign=1.0,
    keep_state=True,
    lr_factor=1.0,
    nan=False,
):
    def step(
        params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0
    ):
        beta1, beta2 = betas
        state = (state if keep_state else None) or {}
        t = state.get("t", 0) + 1
        m, v, new = dict(state.get("m", {})), dict(state.get("v", {})), {}
        for k, w in params.items():
            g = grads[k] + (weight_decay * w if decay == "l2" else 0.0)
            m[k] = beta1 * m.get(k, 0.0) + (1 - beta1) * g
            v[k] = beta2 * v.get(k, 0.0) + (1 - beta2) * g * g
            mh, vh = (
                (m[k] / (1 - beta1**t), v[k] / (1 - beta2**t))
                if correct
                else (m[k], v[k])
            )
            denom = np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps
            w = w * (1 - lr * weight_decay) if decay == "decoupled" else w
            new[k] = w - sign * lr_factor * lr * mh / denom + (np.nan if nan else 0.0)
        return new, {"t": t, "m": m, "v": v}

    return step


@pytest.mark.parametrize(
    "options, part",
    [
        (dict(correct=False), "bias corrections of both moments"),
        (dict(eps_inside=True), "eps enters in the wrong place"),
        (dict(decay="none"), "weight_decay is ignored"),
        (dict(decay="decoupled"), "decoupled weight decay"),
        (dict(sign=-1.0), "uphill"),
        (dict(keep_state=False), "the first step is right but step 2"),
        (dict(lr_factor=2.0), "same factor in every coordinate"),
        (dict(nan=True), "NaN"),
    ],
)
def test_adam_wrong_answers(ns, options, part):
    fn = adam_variant(ns, **options)
    expect(ns, lambda: ns["check_adam"](fn), part, forbidden=("1 - beta", "sqrt(v"))


def test_adam_shape_and_none(ns):
    right = ns["adam_step"]
    expect(ns, lambda: ns["check_adam"](lambda *a, **k: None), "return a pair")
    expect(
        ns,
        lambda: ns["check_adam"](lambda *a, **k: ({"W": None, "b": None}, None)),
        "is None",
    )
    expect(
        ns,
        lambda: ns["check_adam"](
            lambda p, g, s, **k: (
                {n: w.T for n, w in right(p, g, s, **k)[0].items()},
                right(p, g, s, **k)[1],
            )
        ),
        "has shape",
    )


def test_adam_in_place_update_is_named(ns):
    def in_place(params, grads, state, **hyper):
        new, state = ns["adam_step"](params, grads, state, **hyper)
        for k in params:
            params[k][...] = new[k]
        return params, state

    expect(ns, lambda: ns["check_adam"](in_place), "modified the params")


def test_adam_right_answer(ns):
    ns["check_adam"](ns["adam_step"])
    ns["check_adam"](
        adam_variant(ns)
    )  # an independent correct implementation passes too


# ---------------------------------------------------------------- 01.4 adagrad_step


def adagrad_variant(ignore=(), sign=1.0, keep_state=True, lr_factor=1.0, nan=False):
    def step(
        params,
        grads,
        state,
        lr=0.01,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
    ):
        lr_decay = 0.0 if "lr_decay" in ignore else lr_decay
        weight_decay = 0.0 if "weight_decay" in ignore else weight_decay
        start = (
            0.0 if "initial_accumulator_value" in ignore else initial_accumulator_value
        )
        state = (state if keep_state else None) or {}
        t = state.get("t", 0) + 1
        sums, new = dict(state.get("sum", {})), {}
        clr = lr / (1 + (t - 1) * lr_decay)
        for k, w in params.items():
            g = grads[k] + weight_decay * w
            sums[k] = sums.get(k, start) + g * g
            new[k] = (
                w
                - sign * lr_factor * clr * g / (np.sqrt(sums[k]) + eps)
                + (np.nan if nan else 0)
            )
        return new, {"t": t, "sum": sums}

    return step


@pytest.mark.parametrize(
    "options, part",
    [
        (dict(ignore=("lr_decay",)), "lr_decay is ignored"),
        (dict(ignore=("weight_decay",)), "weight_decay is ignored"),
        (
            dict(ignore=("initial_accumulator_value",)),
            "initial_accumulator_value is ignored",
        ),
        (dict(sign=-1.0), "uphill"),
        (dict(keep_state=False), "the first step is right but step 2"),
        (dict(lr_factor=2.0), "moves 2 times as far"),
        (dict(nan=True), "NaN"),
    ],
)
def test_adagrad_wrong_answers(ns, options, part):
    expect(
        ns,
        lambda: ns["check_adagrad"](adagrad_variant(**options)),
        part,
        forbidden=("(t - 1)", "np.sqrt(sum"),
    )


def test_adagrad_none(ns):
    expect(ns, lambda: ns["check_adagrad"](lambda *a, **k: None), "return a pair")


def test_adagrad_hint_never_says_one_times(ns):
    def slightly_off(params, grads, state, **hyper):  # right for most coordinates only
        new, state = ns["adagrad_step"](params, grads, state, **hyper)
        new = {k: v.copy() for k, v in new.items()}
        new["b"][0] += 1e-3
        return new, state

    message = expect(
        ns, lambda: ns["check_adagrad"](slightly_off), "the very first step differs"
    )
    assert "1 times" not in message


def test_adagrad_right_answer(ns):
    ns["check_adagrad"](ns["adagrad_step"])
    ns["check_adagrad"](adagrad_variant())


# ---------------------------------------------------------------- 01.5 label smoothing


def naive_smoothed(logits, targets, smoothing):
    n, k = logits.shape
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    soft = np.full_like(probs, smoothing / k)
    soft[np.arange(n), targets] += 1 - smoothing
    return -(soft * np.log(probs)).sum(axis=1).mean(), (probs - soft) / n


def smoothed(ns, transform):
    right = ns["smoothed_cross_entropy"]
    return lambda z, t, s: transform(*right(z, t, s), len(t))


@pytest.mark.parametrize(
    "fn, part",
    [
        (lambda ns: naive_smoothed, "overflows"),
        (lambda ns: smoothed(ns, lambda loss, d, n: None), "return a pair"),
        (lambda ns: smoothed(ns, lambda loss, d, n: (loss * n, d)), "batch sum"),
        (
            lambda ns: smoothed(ns, lambda loss, d, n: (loss, d * n)),
            "N times too large",
        ),
        (lambda ns: smoothed(ns, lambda loss, d, n: (loss, -d)), "wrong sign"),
        (lambda ns: smoothed(ns, lambda loss, d, n: (loss, d[:, :-1])), "has shape"),
        (lambda ns: smoothed(ns, lambda loss, d, n: (loss, d * np.nan)), "NaN"),
        (
            lambda ns: lambda z, t, s: ns["smoothed_cross_entropy"](z, t, 0.0),
            "smoothing is not used",
        ),
    ],
)
def test_smoothed_cross_entropy_wrong_answers(ns, fn, part):
    answer = fn(ns)
    expect(
        ns, lambda: ns["check_smoothed_ce"](answer), part, forbidden=("smoothing / k",)
    )


def test_smoothed_cross_entropy_right_answer(ns):
    ns["check_smoothed_ce"](ns["smoothed_cross_entropy"])


# ---------------------------------------------------------------- 01.6 Adam's first step


@pytest.mark.parametrize(
    "fn, part",
    [
        (lambda b1, b2: None, "is None"),
        (lambda b1, b2: np.sqrt(1 - b2) / (1 - b1), "upside down"),
        (lambda b1, b2: (1 - b1) / (1 - b2), "square root"),
        (lambda b1, b2: np.nan, "NaN"),
        (lambda b1, b2: np.ones(2), "single number"),
        (lambda b1, b2: 1.0, "does not match the measurement"),
    ],
)
def test_first_step_ratio_wrong_answers(ns, fn, part):
    expect(
        ns,
        lambda: ns["check_first_step"](fn),
        part,
        forbidden=("(1 - beta1)", "sqrt(1 -"),
    )


def test_first_step_ratio_right_answer(ns):
    ns["check_first_step"](ns["first_step_ratio"])


# ---------------------------------------------------------------- 01.7 stability threshold


@pytest.mark.parametrize(
    "fn, part",
    [
        (lambda lams, mu: 0.0, "never moves the weights"),
        (lambda lams, mu: -1.0, "never moves the weights"),
        (lambda lams, mu: 2 / np.max(lams), "plain gradient descent"),
        (lambda lams, mu: 2 * (1 + mu) / np.min(lams), "which curvature"),
        (lambda lams, mu: 2 * (1 + mu) / lams, "single number"),
        (lambda lams, mu: None, "is None"),
        (lambda lams, mu: np.nan, "NaN"),
        (lambda lams, mu: 1.0 / np.max(lams), "still converges above it"),
    ],
)
def test_max_stable_lr_wrong_answers(ns, fn, part):
    expect(
        ns, lambda: ns["check_max_stable_lr"](fn), part, forbidden=("2 * (1 +", "2(1 +")
    )


def test_max_stable_lr_right_answer(ns):
    ns["check_max_stable_lr"](ns["max_stable_lr"])
