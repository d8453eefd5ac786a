"""Wrong answers to chapter 06's exercises get the right hint, and the right answers pass.

The chapter's checkers are loaded without running the notebook: the generated helper cell, the
imports, and the top-level definitions (functions, classes, imports) of every other code cell, so
the checkers, the answers and the reference pieces they use are all defined, and nothing trains.
"""

import ast
from pathlib import Path

import nbformat
import numpy as np
import pytest

import exercise_support

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "solutions" / "06_batch_norm.ipynb"


def _load():
    nb = nbformat.read(str(CHAPTER), as_version=4)
    ns = {"__name__": "chapter06"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        if "generated-helpers" in cell.metadata.get("tags", []) or cell is code[0]:
            exec(cell.source, ns)
    for cell in code:
        if "generated-helpers" in cell.metadata.get("tags", []) or cell is code[0]:
            continue
        tree = ast.parse(cell.source)
        kinds = (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
        if "checks" in cell.metadata.get("tags", []):
            kinds += (ast.Assign,)  # the checkers' tables of hints
        keep = [n for n in tree.body if isinstance(n, kinds)
                and not (isinstance(n, ast.FunctionDef) and n.name.startswith("_hidden_tests_"))]
        exec(compile(ast.Module(body=keep, type_ignores=[]), "chapter06", "exec"), ns)
    return ns


NS = _load()


@pytest.fixture(autouse=True, scope="module")
def _float64_default():
    """The checkers compare with torch in float64: torch's default dtype, for this module only."""
    with exercise_support.torch_default_dtype("float64"):
        yield


def hint_of(check):
    return exercise_support.hint_of(NS, check)


def assert_hint(check, *parts, forbidden=()):
    return exercise_support.expect_hint(NS, check, *parts, forbidden=forbidden)


def passes(exercise, check):
    assert NS["self_check"](exercise, check, strict=True) is True


# ---------------------------------------------------------------- 06.1: forward


def forward_variant(unbiased_norm=False, eps_on=True, axis=0, run_unbiased=True,
                    run_factor=None, keras=False, update_in_eval=False, batch_in_eval=False,
                    one_pass=False, affine=True, to64=False, inplace=False, scale=1.0,
                    no_update=False, transpose=False, nan=False, ret_none=False):
    """A student's forward pass with one typical mistake switched on."""

    def forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5,
                num_batches_tracked=0):
        if ret_none:
            return None
        x = np.asarray(x)
        dt = x.dtype if not to64 else np.float64
        x = x.astype(dt)
        m = x.shape[0]
        use_batch = training or batch_in_eval
        if use_batch:
            if one_pass:
                mean = x.mean(axis, keepdims=True)
                var = (x * x).mean(axis, keepdims=True) - mean * mean
            else:
                mean, var = x.mean(axis, keepdims=True), x.var(axis, keepdims=True)
            norm_var = var * m / (m - 1) if unbiased_norm else var
        else:
            mean, norm_var = running_mean, running_var
        out = (x - mean) / np.sqrt(norm_var + (eps if eps_on else 0.0))
        if affine:
            out = out * gamma + beta
        out = out * scale
        if nan:
            out = out * np.nan
        new_mean, new_var = np.array(running_mean), np.array(running_var)
        if (training or update_in_eval) and not no_update:
            bmean, bvar = x.mean(0), x.var(0)
            factor = run_factor if run_factor is not None else (m / (m - 1) if run_unbiased else 1)
            if keras:
                new_mean = momentum * new_mean + (1 - momentum) * bmean
                new_var = momentum * new_var + (1 - momentum) * bvar * factor
            else:
                new_mean = (1 - momentum) * new_mean + momentum * bmean
                new_var = (1 - momentum) * new_var + momentum * bvar * factor
            if inplace:
                running_mean += 0.0 * running_mean + 1.0
        out = out.T if transpose else out
        return out.astype(dt), {"x": x}, new_mean, new_var

    return forward


FORWARD_CASES = [
    ({"ret_none": True}, ["four things"]),
    ({"transpose": True}, ["has shape"]),
    ({"nan": True}, ["NaN"]),
    ({"scale": 2.0}, ["differs from torch's"]),
    ({"eps_on": False}, ["ignores eps"]),
    ({"axis": 1}, ["wrong axis"]),
    ({"unbiased_norm": True}, ["unbiased variance"]),
    ({"affine": False}, ["gamma and beta are not applied"]),
    ({"run_unbiased": False}, ["biased batch variance"]),
    ({"run_factor": 7 / 8}, ["inverted"]),
    ({"run_factor": (8 / 7) ** 2}, ["twice"]),
    ({"keras": True}, ["reversed"]),
    ({"no_update": True}, ["not updated"]),
    ({"update_in_eval": True}, ["only in training mode"]),
    ({"batch_in_eval": True}, ["uses the batch statistics"]),
    ({"one_pass": True}, ["cancels catastrophically"]),
    ({"to64": True}, ["keep x's dtype"]),
    ({"inplace": True}, ["in place"]),
]


@pytest.mark.parametrize("mistake,parts", FORWARD_CASES, ids=[str(c[0]) for c in FORWARD_CASES])
def test_forward_hints(mistake, parts):
    assert_hint(lambda: NS["check_bn_forward"](forward_variant(**mistake)), *parts,
                forbidden=["m / (m - 1)", "m/(m-1)"])


def test_forward_student_variant_and_answer_pass():
    passes("06.1", lambda: NS["check_bn_forward"](forward_variant()))
    passes("06.1", lambda: NS["check_bn_forward"](NS["batchnorm_forward"]))
    passes("06.1", lambda: NS["check_bn_forward"](NS["batchnorm_forward"], seed=2, shape=(2, 4),
                                                   momentum=1.0))


def test_forward_failure_is_a_check_failure_not_a_traceback():
    with pytest.raises(AssertionError, match="Exercise 06.1: not yet right"):
        NS["self_check"]("06.1", lambda: NS["check_bn_forward"](forward_variant(eps_on=False)),
                         strict=True)


# ---------------------------------------------------------------- 06.2: backward


def backward_variant(kind):
    right = NS["batchnorm_backward"]

    def backward(dout, cache):
        dx, dgamma, dbeta = right(dout, cache)
        inv_std, gamma = cache["inv_std"], cache["gamma"]
        m = len(dout)
        if kind == "none":
            return None
        if kind == "transpose":
            return dx.T, dgamma, dbeta
        if kind == "double":
            return 2 * dx, dgamma, dbeta
        if kind == "nan":
            return dx * np.nan, dgamma, dbeta
        if kind == "dgamma axis":
            return dx, dgamma.sum() * np.ones_like(dgamma), dbeta
        if kind == "dbeta":
            return dx, dgamma, dbeta / m
        if kind == "direct only":
            return dout * gamma * inv_std, dgamma, dbeta
        direct = dout * gamma * inv_std
        if kind == "factor m":
            return direct + m * (dx - direct), dgamma, dbeta if cache["training"] else (dx,)
        if kind == "no mean term":
            xhat_term = dx - direct + gamma * inv_std * dbeta / m
            return direct + xhat_term, dgamma, dbeta
        if kind == "eval with batch terms":
            if cache["training"]:
                return dx, dgamma, dbeta
            xs, mu = cache["xs"], cache["mu"]
            xhat = (xs - mu) * inv_std
            return gamma * inv_std * (dout - dbeta / m - xhat * dgamma / m), dgamma, dbeta
        raise ValueError(kind)

    return backward


BACKWARD_CASES = [
    ("none", ["three arrays"]),
    ("transpose", ["has shape"]),
    ("nan", ["NaN"]),
    ("double", ["off by a factor of 2"]),
    ("dgamma axis", ["dgamma is wrong"]),
    ("dbeta", ["dbeta is wrong"]),
    ("direct only", ["only the direct path"]),
    ("factor m", ["off by a factor of m"]),
    ("no mean term", ["three terms"]),
    ("eval with batch terms", ["running statistics are constants"]),
]


@pytest.mark.parametrize("kind,parts", BACKWARD_CASES, ids=[c[0] for c in BACKWARD_CASES])
def test_backward_hints(kind, parts):
    assert_hint(lambda: NS["check_bn_backward"](backward_variant(kind)), *parts)


def test_backward_answer_passes():
    passes("06.2", lambda: NS["check_bn_backward"](NS["batchnorm_backward"]))
    passes("06.2", lambda: NS["check_bn_backward"](NS["batchnorm_backward"], seed=2,
                                                    shape=(2, 5)))


# ---------------------------------------------------------------- 06.3: convolutions


def spatial_variant(kind):
    fwd, bwd = NS["spatial_batchnorm_forward"], NS["spatial_batchnorm_backward"]
    bn_fwd, bn_bwd = NS["batchnorm_forward"], NS["batchnorm_backward"]

    def forward(x, gamma, beta, rmean, rvar, training, momentum=0.1, eps=1e-5):
        C = x.shape[1]
        if kind == "none":
            return None
        if kind == "naive reshape":
            out, cache, m, v = bn_fwd(x.reshape(-1, C), gamma, beta, rmean, rvar, training)
            return out.reshape(x.shape), (cache, x.shape), m, v
        if kind == "per position":
            mean, var = x.mean(0), x.var(0)
            shape = (1, C) + (1,) * (x.ndim - 2)
            out = (x - mean) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)
            return (out, None) + fwd(x, gamma, beta, rmean, rvar, training)[2:]
        out, cache, m, v = fwd(x, gamma, beta, rmean, rvar, training)
        if kind == "flat":
            return out.reshape(-1, C), cache, m, v
        if kind == "nan":
            return out * np.nan, cache, m, v
        return out, cache, m, v

    def backward(dout, cache):
        if kind == "bad backward":
            inner, moved_shape = cache
            dx, dgamma, dbeta = bn_bwd(dout.reshape(-1, dout.shape[1]), inner)
            return dx.reshape(dout.shape), dgamma, dbeta
        return bwd(dout, cache)

    return forward, backward


SPATIAL_CASES = [
    ("none", ["four things"]),
    ("flat", ["has shape"]),
    ("nan", ["NaN"]),
    ("naive reshape", ["move the channel axis"]),
    ("per position", ["batch axis only"]),
    ("bad backward", ["undo the forward pass's reshape"]),
]


@pytest.mark.parametrize("kind,parts", SPATIAL_CASES, ids=[c[0] for c in SPATIAL_CASES])
def test_spatial_hints(kind, parts):
    assert_hint(lambda: NS["check_spatial"](*spatial_variant(kind)), *parts)


def test_spatial_answer_passes():
    f, b = NS["spatial_batchnorm_forward"], NS["spatial_batchnorm_backward"]
    passes("06.3", lambda: NS["check_spatial"](f, b))
    passes("06.3", lambda: NS["check_spatial"](f, b, seed=2, shape=(2, 3, 2, 2, 3)))


# ---------------------------------------------------------------- 06.4: folding


def fold_variant(kind):
    def fold(W, b, gamma, beta, mean, var, eps=1e-5):
        s = gamma / np.sqrt(var + eps)
        if kind == "none":
            return None
        if kind == "transpose":
            return (W * s[:, None]).T, (b - mean) * s + beta
        if kind == "nan":
            return W * np.nan, b
        if kind == "missing eps":
            return W * (gamma / np.sqrt(var))[:, None], (b - mean) * gamma / np.sqrt(var) + beta
        if kind == "times std":
            return W * (gamma * np.sqrt(var + eps))[:, None], b
        if kind == "b not scaled":
            return W * s[:, None], b - mean * s + beta
        if kind == "no beta":
            return W * s[:, None], (b - mean) * s
        if kind == "double":
            return 2 * W * s[:, None], (b - mean) * s + beta
        raise ValueError(kind)

    return fold


FOLD_CASES = [
    ("none", ["return a pair"]),
    ("transpose", ["has shape"]),
    ("nan", ["NaN"]),
    ("missing eps", ["ignores eps"]),
    ("times std", ["multiplies by the standard deviation"]),
    ("b not scaled", ["scaled too"]),
    ("no beta", ["forgets the shift beta"]),
    ("double", ["W_folded is not right"]),
]


@pytest.mark.parametrize("kind,parts", FOLD_CASES, ids=[c[0] for c in FOLD_CASES])
def test_fold_hints(kind, parts):
    assert_hint(lambda: NS["check_fold"](fold_variant(kind)), *parts)


def test_fold_answer_passes():
    passes("06.4", lambda: NS["check_fold"](NS["fold_batchnorm"]))


# ---------------------------------------------------------------- 06.5: RMS backward


def rms_variant(kind):
    def backward(dout, cache):
        xhat, r, gamma = cache
        dxhat = dout * gamma
        extra = -r * xhat * np.mean(dxhat * xhat, axis=0)
        dgamma, dbeta = np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
        if kind == "none":
            return None
        if kind == "transpose":
            return (r * dxhat + extra).T, dgamma, dbeta
        if kind == "nan":
            return r * dxhat * np.nan, dgamma, dbeta
        if kind == "direct only":
            return r * dxhat, dgamma, dbeta
        if kind == "factor 2":
            return r * dxhat + 2 * extra, dgamma, dbeta
        if kind == "factor N":
            return r * dxhat + len(dout) * extra, dgamma, dbeta
        if kind == "dbeta":
            return r * dxhat + extra, dgamma, dbeta / len(dout)
        raise ValueError(kind)

    return backward


RMS_CASES = [
    ("none", ["three arrays"]),
    ("transpose", ["has shape"]),
    ("nan", ["NaN"]),
    ("direct only", ["second path, through r"]),
    ("factor 2", ["factor of 2"]),
    ("factor N", ["factor of N"]),
    ("dbeta", ["dbeta is wrong"]),
]


@pytest.mark.parametrize("kind,parts", RMS_CASES, ids=[c[0] for c in RMS_CASES])
def test_rms_hints(kind, parts):
    assert_hint(lambda: NS["check_rms_backward"](rms_variant(kind), shape=(6, 4)), *parts)


def test_rms_answer_passes():
    passes("06.5", lambda: NS["check_rms_backward"](NS["batchrms_backward"]))


# ---------------------------------------------------------------- 06.6: scaled weights

SCALED_CASES = [
    (lambda dW, a: None, ["is None"]),
    (lambda dW, a: dW.T, ["has shape"]),
    (lambda dW, a: dW * np.nan, ["NaN"]),
    (lambda dW, a: dW, ["does not change with a"]),
    (lambda dW, a: a * dW, ["grows in proportion to a"]),
    (lambda dW, a: dW / a ** 2, ["one factor of a too many"]),
    (lambda dW, a: dW / (2 * a), ["constant factor of 0.5"]),
    (lambda dW, a: 2 * dW / a, ["constant factor of 2"]),
    (lambda dW, a: dW / a + 1.0, ["differs from the gradient autograd computes"]),
]


@pytest.mark.parametrize("fn,parts", SCALED_CASES, ids=[c[1][0] for c in SCALED_CASES])
def test_scaled_grad_hints(fn, parts):
    message = assert_hint(lambda: NS["check_scaled_grad"](fn), *parts)
    assert "does not change with a" not in message or parts == ["does not change with a"]


def test_scaled_grad_answer_passes():
    passes("06.6", lambda: NS["check_scaled_grad"](NS["grad_at_scaled_weights"]))


# ---------------------------------------------------------------- 06.7: predict, then run


def _target(k, s2, B, momentum):
    keep = (1 - momentum) ** k
    return keep + (1 - keep) * s2 * B / (B - 1)


PREDICT_CASES = [
    (lambda k, s2, B, m: None, ["returns None"]),
    (lambda k, s2, B, m: [1.0, 2.0], ["one number"]),
    (lambda k, s2, B, m: float("nan"), ["not a finite number"]),
    (lambda k, s2, B, m: (1 - m) ** k + (1 - (1 - m) ** k) * s2, ["unbiased estimate"]),
    (lambda k, s2, B, m: m ** k + (1 - m ** k) * s2 * B / (B - 1), ["Keras convention"]),
    (lambda k, s2, B, m: _target(k - 1, s2, B, m), ["off by one step"]),
    (lambda k, s2, B, m: 2 * _target(k, s2, B, m), ["differs from what PyTorch's layer"]),
]


@pytest.mark.parametrize("fn,parts", PREDICT_CASES, ids=[c[1][0] for c in PREDICT_CASES])
def test_predict_hints_do_not_give_the_value(fn, parts):
    targets = [f"{_target(*case):.6f}"[:6] for case in ((20, 9.0, 4, 0.1), (30, 0.25, 2, 0.2))]
    assert_hint(lambda: NS["check_running_var"](fn), *parts, forbidden=targets)


def test_predict_answer_passes():
    passes("06.7", lambda: NS["check_running_var"](NS["predict_running_var"]))
    passes("06.7", lambda: NS["check_running_var"](
        NS["predict_running_var"], cases=((1, 9.0, 3, 0.5), (12, 1.0, 16, 0.01))))


# ---------------------------------------------------------------- 06.8: a batch of two


def pair_variant(kind):
    def pair(u, v, eps=1e-5):
        half = (u - v) / 2
        if kind == "none":
            return None
        if kind == "transpose":
            return np.stack([half, -half]).T / np.sqrt(half[:, None] ** 2 + eps)
        if kind == "nan":
            return np.stack([half, -half]) * np.nan
        if kind == "unbiased":
            return np.stack([half, -half]) / np.sqrt(2 * half ** 2 + eps)
        if kind == "missing eps":
            return np.stack([half, -half]) / np.abs(half)
        if kind == "swapped":
            return np.stack([-half, half]) / np.sqrt(half ** 2 + eps)
        if kind == "double":
            return 2 * np.stack([half, -half]) / np.sqrt(half ** 2 + eps)
        raise ValueError(kind)

    return pair


PAIR_CASES = [
    ("none", ["is None"]),
    ("transpose", ["has shape"]),
    ("nan", ["NaN"]),
    ("unbiased", ["sqrt(2)", "unbiased"]),
    ("missing eps", ["eps is missing"]),
    ("swapped", ["signs are swapped"]),
    ("double", ["compare your two rows"]),
]


@pytest.mark.parametrize("kind,parts", PAIR_CASES, ids=[c[0] for c in PAIR_CASES])
def test_pair_hints(kind, parts):
    assert_hint(lambda: NS["check_pair"](pair_variant(kind)), *parts)


def test_pair_answer_passes():
    passes("06.8", lambda: NS["check_pair"](NS["pair_normalized"]))
    passes("06.8", lambda: NS["check_pair"](NS["pair_normalized"], seed=1, C=8))


# ---------------------------------------------------------------- the layer's argument checks


def test_bad_momentum_is_a_value_error():
    forward = NS["batchnorm_forward"]
    args = (np.ones((8, 4)), np.ones(4), np.zeros(4), np.zeros(4), np.ones(4), True)
    for bad in ("0.1", [0.1], True, 1.5, -0.1):
        with pytest.raises(ValueError, match="momentum"):
            forward(*args, momentum=bad)
    with pytest.raises(ValueError, match="num_batches_tracked"):
        forward(*args, momentum=None, num_batches_tracked=2.0)
