"""Chapter 12's self-checks against wrong answers: they name the mistake only.

Only the chapter's definitions are executed (the imports, the generated helper cell, the ``#@save``
cells, the ``checks`` cells and the answer cells), not its experiments, so this file is fast.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from exercise_support import chapter_namespace, expect_hint, strict_fails


@pytest.fixture(scope="module")
def ns():
    return chapter_namespace("12_practice")


# ---------------------------------------------------------------- 12.1 layer_stats

STATS_ANSWER = ("all(0)", "== 0", "> 0.97", "retain_grad")


def stats_variant(kind="right"):
    """A student's layer_stats with one typical mistake."""

    def layer_stats(model, batch, loss_fn=None):
        x, y = batch
        loss_fn = F.cross_entropy if loss_fn is None else loss_fn
        watched = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.ReLU, nn.Tanh))]
        if kind == "linear_too":
            watched += [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        outputs, handles = {}, []

        def keep(name):
            def hook(module, inputs, output):
                output.retain_grad()
                outputs[name] = output

            return hook

        for name, module in watched:
            handles.append(module.register_forward_hook(keep(name)))
        loss_fn(model(x), y).backward()
        if kind != "hooks_left":
            for handle in handles:
                handle.remove()
        if kind == "none":
            return None
        stats = {}
        for name, module in watched:
            out = outputs[name].detach()
            if isinstance(module, nn.ReLU) or kind == "relu_rule_for_tanh":
                flat = out == 0
            else:
                flat = out.abs() > (0.5 if kind == "tanh_threshold" else 0.97)
            if isinstance(module, nn.Linear):
                flat = out == 0
            dead = flat.all(1) if kind == "dead_axis" else flat.all(0)
            grad = outputs[name].grad
            row = {
                "mean": out.mean().item(),
                "std": out.std().item(),
                "saturated": flat.float().mean().item(),
                "dead": dead.float().mean().item(),
                "grad_std": grad.std().item() if kind != "grad_mean" else grad.mean().item(),
            }
            if kind == "tensors":
                row["mean"] = out.mean()
            if kind == "nan":
                row["std"] = float("nan")
            stats[name] = row
        if kind != "grads_left":
            model.zero_grad()
        return stats

    return layer_stats


@pytest.mark.parametrize(
    "kind, part",
    [
        ("none", "return a dict"),
        ("linear_too", "names of the activation modules"),
        ("hooks_left", "hook is still registered"),
        ("grads_left", "gradients were left"),
        ("dead_axis", "'dead'"),
        ("grad_mean", "'grad_std'"),
        ("tensors", "tensor"),
        ("nan", "NaN"),
    ],
)
def test_layer_stats_wrong_answers(ns, kind, part):
    check = lambda: ns["check_layer_stats"](stats_variant(kind))
    expect_hint(ns, check, part, forbidden=STATS_ANSWER)
    strict_fails(ns, "12.1", check, part)


@pytest.mark.parametrize("kind", ["tanh_threshold", "relu_rule_for_tanh"])
def test_layer_stats_wrong_tanh_rule(ns, kind):
    check = lambda: ns["check_layer_stats"](stats_variant(kind), seed=1, act=nn.Tanh)
    expect_hint(ns, check, "'saturated'", forbidden=STATS_ANSWER)


def test_layer_stats_right_answers_pass(ns):
    for fn in (stats_variant(), ns["layer_stats"]):
        for kwargs in ({}, {"seed": 1, "act": nn.Tanh}, {"seed": 3, "bias": -3.0, "n": 50}):
            assert ns["self_check"]("12.1", lambda: ns["check_layer_stats"](fn, **kwargs), strict=True)


def test_layer_stats_stub_is_not_attempted(ns, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 12.1: not implemented yet")

    ns["self_check"]("12.1", lambda: ns["check_layer_stats"](stub))
    assert "not attempted yet" in capsys.readouterr().out


# ---------------------------------------------------------------- 12.2 the digits script


def digits_variant(kind="right"):
    def train(x_train, y_train, x_val, y_val, seed=0, epochs=15):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs if kind != "short" else 1):
            model.train()
            perm = torch.randperm(len(x_train), generator=g)
            for start in range(0, len(x_train), 32):
                idx = perm[start : start + 32]
                out = model(x_train[idx])
                if kind == "softmax":
                    out = torch.softmax(out, 1)
                loss = F.cross_entropy(out, y_train[idx])
                if kind != "no_zero_grad":
                    opt.zero_grad()
                loss.backward()
                opt.step()
        if kind != "no_eval":
            model.eval()
        with torch.no_grad():
            accuracy = (model(x_val).argmax(1) == y_val).float().mean().item()
        if kind == "tuple3":
            return model, accuracy, None
        if kind == "wrong_acc":
            return model, 1.0
        if kind == "tensor_acc":
            return model, torch.tensor(accuracy)
        return model, accuracy

    return train


@pytest.mark.parametrize(
    "kind, part",
    [
        ("no_eval", "checklist item 7"),
        ("no_zero_grad", "below the target"),
        ("softmax", "below the target"),
        ("tuple3", "return a tuple"),
        ("wrong_acc", "not the returned model's accuracy"),
        ("tensor_acc", "float"),
    ],
)
def test_digits_script_wrong_answers(ns, kind, part):
    check = lambda: ns["check_digits_script"](digits_variant(kind), seeds=(0,))
    expect_hint(ns, check, part, forbidden=("zero_grad", "softmax", "eval()"))
    if kind in ("no_eval", "tuple3"):
        strict_fails(ns, "12.2", check, part)


def test_digits_script_right_answers_pass(ns):
    assert ns["self_check"]("12.2", lambda: ns["check_digits_script"](digits_variant()), strict=True)


# ---------------------------------------------------------------- 12.3 the tutorial's script


def cancer_variant(kind="right"):
    def train(x, y, n_train, seed=0, epochs=20):
        torch.manual_seed(seed)
        rows = x if kind == "leak" else x[:n_train]
        mean, std = rows.mean(0), rows.std(0)
        if kind == "wrong_std":
            std = rows.abs().mean(0)
        x = (x - mean) / std
        x_tr, y_tr, x_va, y_va = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
        model = nn.Sequential(
            nn.Linear(30, 64), nn.ReLU(), nn.Dropout(0.3), nn.BatchNorm1d(64),
            nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.3), nn.BatchNorm1d(64),
            nn.Linear(64, 2),
        )
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            model.train()
            perm = torch.randperm(n_train, generator=g)
            for start in range(0, n_train, 32):
                idx = perm[start : start + 32]
                if len(idx) < 2 and kind != "batch_of_one":
                    break
                loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        if kind != "no_eval":
            model.eval()
        with torch.no_grad():
            accuracy = (model(x_va).argmax(1) == y_va).float().mean().item()
        if kind == "no_stats":
            return model, accuracy
        return model, mean, std, accuracy

    return train


@pytest.mark.parametrize(
    "kind, part",
    [
        ("leak", "checklist item 8"),
        ("wrong_std", "checklist item 8"),
        ("no_eval", "checklist item 7"),
        ("no_stats", "return a tuple"),
    ],
)
def test_cancer_script_wrong_answers(ns, kind, part):
    check = lambda: ns["check_cancer_script"](cancer_variant(kind))
    expect_hint(ns, check, part, forbidden=("x[:n_train]", "drop_last", "eval()"))
    strict_fails(ns, "12.3", check, part)


def test_cancer_script_batch_of_one_is_reported(ns):
    check = lambda: ns["check_cancer_script"](cancer_variant("batch_of_one"))
    strict_fails(ns, "12.3", check, "Expected more than 1 value per channel")


def test_cancer_script_right_answers_pass(ns):
    for fn in (cancer_variant(), ns["fixed_train_cancer"]):
        assert ns["self_check"]("12.3", lambda: ns["check_cancer_script"](fn), strict=True)
    assert ns["self_check"](
        "12.3",
        lambda: ns["check_cancer_script"](cancer_variant(), n_trains=(289,), seeds=(1,)),
        strict=True,
    )


# ---------------------------------------------------------------- 12.4 the prediction


@pytest.mark.parametrize(
    "value, part",
    [
        (1.4612, "lowest value"),
        (0.0, "cannot be zero"),
        (4.6, "too large"),
        (1.0, "not what the untrained network gives"),
        (None, "is None"),
        (float("nan"), "NaN"),
        (torch.tensor(2.3), "plain float"),
    ],
)
def test_prediction_wrong_answers(ns, value, part):
    check = lambda: ns["check_softmax_prediction"](lambda: value)
    expect_hint(ns, check, part, forbidden=("2.30", "ln 10", "log(10)"))
    strict_fails(ns, "12.4", check, part)


def test_prediction_right_answers_pass(ns):
    for value in (2.30, 2.3026, 2.31):
        assert ns["self_check"]("12.4", lambda: ns["check_softmax_prediction"](lambda: value), strict=True)
    assert ns["self_check"]("12.4", lambda: ns["check_softmax_prediction"](ns["predict_softmax_initial_loss"]),
                            strict=True)


# ---------------------------------------------------------------- 12.5 the multiple choice


@pytest.mark.parametrize("letter", ["b", "c", "D"])
def test_choice_wrong_letters_get_their_feedback(ns, letter):
    check = lambda: ns["check_raw_explanation"](lambda: letter)
    message = expect_hint(ns, check, "is not the best answer")
    assert len(message) > 80


@pytest.mark.parametrize("answer", ["e", "", None, 1])
def test_choice_invalid_answers(ns, answer):
    expect_hint(ns, lambda: ns["check_raw_explanation"](lambda: answer), "return one letter")


def test_choice_right_letter_passes(ns):
    assert ns["self_check"]("12.5", lambda: ns["check_raw_explanation"](lambda: " A "), strict=True)
