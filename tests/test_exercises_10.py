"""Chapter 10's self-checks against wrong answers: they name the mistake only.

Only the chapter's definitions are executed (the imports, the generated helper cell, the ``#@save``
cells, the ``checks`` cells and the answer cells), not its experiments, so this file is fast. The
early-stopping rule is also unit-tested here directly, on scripted sequences.
"""

import numpy as np
import pytest

from exercise_support import chapter_namespace, expect_hint, strict_fails


@pytest.fixture(scope="module")
def ns():
    return chapter_namespace("10_weight_decay")


# ---------------------------------------------------------------- 10.1 adamw_step


def adamw_variant(ns, mode):
    """adamw_step with one typical mistake."""
    adam = ns["adam_step"]

    def step(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        if mode == "none":
            return None
        if mode == "coupled":  # Adam with L2
            return adam(params, grads, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        if mode == "no_lr":  # shrink by (1 - wd) instead of (1 - lr * wd)
            new, st = adam(params, grads, state, lr=lr, betas=betas, eps=eps)
            return {k: new[k] - weight_decay * params[k] for k in new}, st
        if mode == "after":  # decay applied to the updated weights
            new, st = adam(params, grads, state, lr=lr, betas=betas, eps=eps)
            return {k: new[k] * (1 - lr * weight_decay) for k in new}, st
        if mode == "in_place":
            new, st = ns["adamw_step"](params, grads, state, lr, betas, eps, weight_decay)
            for k in params:
                params[k] *= 1.0  # touches nothing, then overwrites
                params[k][...] = new[k]
            return new, st
        if mode == "no_state":  # forgets the moments: every step is a first step
            new, _ = ns["adamw_step"](params, grads, None, lr, betas, eps, weight_decay)
            return new, None
        if mode == "no_bias_correction":
            beta1, beta2 = betas
            state = state or {"exp_avg": {}, "exp_avg_sq": {}}
            m, v, new = dict(state["exp_avg"]), dict(state["exp_avg_sq"]), {}
            for k, w in params.items():
                g = grads[k]
                m[k] = beta1 * m.get(k, 0.0) + (1 - beta1) * g
                v[k] = beta2 * v.get(k, 0.0) + (1 - beta2) * g * g
                new[k] = w * (1 - lr * weight_decay) - lr * m[k] / (np.sqrt(v[k]) + eps)
            return new, {"exp_avg": m, "exp_avg_sq": v}
        if mode == "nan":
            new, st = ns["adamw_step"](params, grads, state, lr, betas, eps, weight_decay)
            return {k: v * np.nan for k, v in new.items()}, st
        if mode == "shape":
            new, st = ns["adamw_step"](params, grads, state, lr, betas, eps, weight_decay)
            return {k: v.T if v.ndim == 2 else v for k, v in new.items()}, st
        raise AssertionError(mode)

    return step


ADAMW_ANSWER = ("1 - lr", "lr * weight_decay", "(1 - lr")


@pytest.mark.parametrize(
    "mode, part",
    [
        ("none", "should return a pair"),
        ("coupled", "Adam with L2"),
        ("no_lr", "ignores the learning rate"),
        ("after", "before or after"),
        ("in_place", "modified the params"),
        ("no_state", "state carries"),
        ("no_bias_correction", "bias corrections"),
        ("nan", "NaN"),
        ("shape", "shape"),
    ],
)
def test_adamw_wrong_answers(ns, mode, part):
    check = lambda: ns["check_adamw"](adamw_variant(ns, mode))
    expect_hint(ns, check, part, forbidden=ADAMW_ANSWER)
    strict_fails(ns, "10.1", check, part)


def test_adamw_right_answer_passes(ns):
    ns["check_adamw"](ns["adamw_step"])
    ns["check_adamw"](ns["adamw_step"], seed=1, steps=60, lr=0.01, weight_decay=0.5)


# ---------------------------------------------------------------- 10.2 EarlyStopping


def stopper_variant(ns, mode):
    """EarlyStopping whose step has one typical mistake."""
    base = ns["EarlyStopping"]
    copy = ns["_ch10_copy_params"]

    class Wrong(base):
        def step(self, value, params):
            value = float(value)
            delta = 0.0 if mode == "no_delta" else self.min_delta
            if mode == "ties":
                better = value <= self.best - delta if self.mode == "min" else value >= self.best + delta
            elif mode == "nan":
                better = not (value >= self.best - delta) if self.mode == "min" else not (value <= self.best + delta)
            elif mode == "min_only":
                better = value < self.best - delta
            else:
                better = value < self.best - delta if self.mode == "min" else value > self.best + delta
            self.calls += 1
            if better:
                self.best, self.best_step, self.wait = value, self.calls - 1, 0
            else:
                self.wait += 1
            if mode == "alias":
                if better or self.best_params is None:
                    self.best_params = params
            elif better or not self.restore_best or self.best_params is None:
                self.best_params = copy(params)
            if mode == "none":
                return None
            limit = self.patience + 1 if mode == "off_by_one" else self.patience
            return (not better) and self.wait >= limit and self.calls > 1

    return Wrong


@pytest.mark.parametrize(
    "mode, part",
    [
        ("none", "returns None"),
        ("ties", "tie"),
        ("nan", "NaN"),
        ("no_delta", "min_delta"),
        ("min_only", "max mode"),
        ("off_by_one", "one call off"),
        ("alias", "keep a copy"),
    ],
)
def test_early_stopping_wrong_answers(ns, mode, part):
    check = lambda: ns["check_early_stopping"](stopper_variant(ns, mode))
    expect_hint(ns, check, part, forbidden=("<=", ">= self.patience"))
    strict_fails(ns, "10.2", check, part)


def test_early_stopping_right_answer_passes(ns):
    ns["check_early_stopping"](ns["EarlyStopping"])


def run(ns, values, **kwargs):
    stopper = ns["EarlyStopping"](**kwargs)
    for i, value in enumerate(values):
        if stopper.step(value, {"w": np.array([float(i)])}):
            return i, stopper
    return None, stopper


def test_early_stopping_scripted(ns):
    # a tie is not an improvement
    stop, s = run(ns, [1.0, 0.5, 0.5, 0.5], patience=2)
    assert stop == 3 and s.best_step == 1 and s.best_params["w"][0] == 1.0
    # NaN is never an improvement and never replaces the best
    stop, s = run(ns, [0.3, np.nan, np.nan], patience=2)
    assert stop == 2 and s.best == 0.3
    # a first NaN: no stop on the first call; the first finite value is then the best
    stop, s = run(ns, [np.nan, 2.0, 3.0], patience=0)
    assert stop == 2 and s.best == 2.0 and s.best_step == 1
    # min_delta: improvements must exceed it
    stop, s = run(ns, [1.0, 0.91, 0.85, 0.84], patience=1, min_delta=0.1)
    assert stop == 1 and s.best == 1.0
    # max mode
    stop, s = run(ns, [0.1, 0.2, 0.15, 0.3, 0.25, 0.2], patience=2, mode="max")
    assert stop == 5 and s.best == 0.3 and s.best_params["w"][0] == 3.0
    # restore_best=False keeps the latest parameters
    stop, s = run(ns, [1.0, 2.0, 3.0], patience=2, restore_best=False)
    assert stop == 2 and s.best_params["w"][0] == 2.0
    # never stops while improving
    stop, s = run(ns, [5.0, 4.0, 3.0, 2.0], patience=0)
    assert stop is None and s.wait == 0


@pytest.mark.parametrize(
    "kwargs, part",
    [
        (dict(patience=-1), "patience"),
        (dict(patience=2.5), "patience"),
        (dict(patience=2, mode="auto"), "mode"),
        (dict(patience=2, min_delta=-0.1), "min_delta"),
    ],
)
def test_early_stopping_bad_arguments(ns, kwargs, part):
    with pytest.raises(ValueError, match=part):
        ns["EarlyStopping"](**kwargs)


# ---------------------------------------------------------------- 10.3 keras_l2_shrink


@pytest.mark.parametrize(
    "fn, part",
    [
        (lambda lr, l2: None, "returns None"),
        (lambda lr, l2: "x", "one number"),
        (lambda lr, l2: np.nan, "finite"),
        (lambda lr, l2: 1 - lr * l2, "half as much"),
        (lambda lr, l2: 1 + 2 * lr * l2, "sign"),
        (lambda lr, l2: 1 - 2 * l2, "learning rate is missing"),
        (lambda lr, l2: 1 - 3 * lr * l2, "differs"),
    ],
)
def test_keras_shrink_wrong_answers(ns, fn, part):
    check = lambda: ns["check_keras_shrink"](fn)
    expect_hint(ns, check, part, forbidden=("2 * lr", "1 - 2"))
    strict_fails(ns, "10.3", check, part)


def test_keras_shrink_right_answer_passes(ns):
    ns["check_keras_shrink"](ns["keras_l2_shrink"])


# ---------------------------------------------------------------- 10.4 members_needed


def ceil_without_rho(rho, target):
    return int(np.ceil(1 / target - 1e-12))


@pytest.mark.parametrize(
    "fn, part",
    [
        (lambda rho, target: 1000, "not the smallest"),
        (lambda rho, target: 1000 if target <= rho else max(1, int(np.ceil((1 - rho) / (target - rho) - 1e-12))), "no ensemble is good enough"),
        (lambda rho, target: None, "some ensemble reaches"),
        (lambda rho, target: "five", "integer"),
        (lambda rho, target: None if target <= rho else int((1 - rho) / (target - rho)), "round up"),
        (lambda rho, target: None if target <= rho else ceil_without_rho(rho, target), "correlation"),
        (lambda rho, target: None if target <= rho else 50, "not the smallest"),
    ],
)
def test_members_needed_wrong_answers(ns, fn, part):
    check = lambda: ns["check_members_needed"](fn)
    expect_hint(ns, check, part, forbidden=("(1 - rho)", "target - rho"))
    strict_fails(ns, "10.4", check, part)


def test_members_needed_right_answer_passes(ns):
    ns["check_members_needed"](ns["members_needed"])


# ---------------------------------------------------------------- 10.5 multiple choice


@pytest.mark.parametrize("letter", ["b", "c", "d"])
def test_wrong_choices_get_their_feedback(ns, letter):
    message = expect_hint(ns, lambda: ns["check_adam_l2_explanation"](lambda: letter), "not the best")
    assert f"({letter})" in message
    strict_fails(ns, "10.5", lambda: ns["check_adam_l2_explanation"](lambda: letter), "not the best")


@pytest.mark.parametrize("answer", [None, "e", 3, ""])
def test_invalid_choice(ns, answer):
    expect_hint(ns, lambda: ns["check_adam_l2_explanation"](lambda: answer), "return one letter")


def test_right_choice_passes(ns):
    ns["check_adam_l2_explanation"](lambda: "A ")
