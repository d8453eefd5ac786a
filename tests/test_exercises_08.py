"""Wrong answers to chapter 08's exercises get the right hint, and the right answers pass."""

import numpy as np
import pytest

import exercise_support
from exercise_support import chapter_namespace

NS = chapter_namespace("08_layer_norm")


@pytest.fixture(autouse=True, scope="module")
def _float64_default():
    """The checkers compare with torch in float64: torch's default dtype, for this module only."""
    with exercise_support.torch_default_dtype("float64"):
        yield


def hint(check):
    return exercise_support.hint_of(NS, check)


def expect(check, *parts, forbidden=()):
    return exercise_support.expect_hint(NS, check, *parts, forbidden=forbidden)


def passes(exercise, check):
    assert NS["self_check"](exercise, check, strict=True) is True


# ---------------------------------------------------------------- 08.1


def norm_variant(kind):
    def backward(dxhat, cache):
        xhat, s, axes = cache["xhat"], cache["inv_std"], cache["axes"]
        mg = dxhat.mean(axes, keepdims=True)
        mgx = (dxhat * xhat).mean(axes, keepdims=True)
        if kind == "none":
            return None
        if kind == "nan":
            return np.full_like(dxhat, np.nan)
        if kind == "shape":
            return dxhat[..., :1]
        if kind == "sign":
            return -s * (dxhat - mg - xhat * mgx)
        if kind == "no_mean":
            return s * (dxhat - xhat * mgx)
        if kind == "no_var":
            return s * (dxhat - mg)
        if kind == "no_s":
            return dxhat - mg - xhat * mgx
        if kind == "factor":
            return s * (dxhat - mg - 2 * xhat * mgx)
        if kind == "all_axes":
            every = tuple(range(dxhat.ndim))
            return s * (dxhat - dxhat.mean(every) - xhat * (dxhat * xhat).mean(every))
        return s * (dxhat - mg - xhat * mgx)

    return backward


def test_norm_backward_hints():
    check = NS["check_norm_backward"]
    expect(lambda: check(norm_variant("none")), "None")
    expect(lambda: check(norm_variant("nan")), "NaN")
    expect(lambda: check(norm_variant("shape")), "shape")
    expect(lambda: check(norm_variant("sign")), "sign")
    expect(lambda: check(norm_variant("no_mean")), "through the mean")
    expect(lambda: check(norm_variant("no_var")), "through the variance")
    expect(lambda: check(norm_variant("no_s")), "standard deviation")
    expect(lambda: check(norm_variant("factor")), "constant factor")
    expect(lambda: check(norm_variant("all_axes")), "every axis")
    passes("08.1", lambda: check(norm_variant("right")))
    passes("08.1", lambda: check(NS["_ch08_norm_backward"]))


# ---------------------------------------------------------------- 08.2


def gn_variant(kind):
    right = NS["groupnorm_backward"]

    def backward(dout, cache):
        dx, dgamma, dbeta = right(dout, cache)
        shared = (0,) + tuple(range(2, dout.ndim))
        if kind == "none":
            return None
        if kind == "two":
            return dx, dgamma
        if kind == "dbeta":
            return dx, dgamma, dout.sum(0).reshape(dout.shape[1], -1)[:, 0]
        if kind == "dgamma_dbeta":
            return dx, dout.sum(shared), dbeta
        if kind == "no_gamma":
            c = dict(cache, gamma=np.ones_like(cache["gamma"]))
            return right(dout, c)[0], dgamma, dbeta
        if kind == "nan":
            return np.full_like(dx, np.nan), dgamma, dbeta
        if kind == "interleaved":  # groups taken as every G-th channel, not consecutive ones
            N, G = dout.shape[0], cache["num_groups"]
            dxhat = dout * cache["gamma"].reshape((1, -1) + (1,) * (dout.ndim - 2))
            wrong = dxhat.reshape(N, -1, G).transpose(0, 2, 1)
            back = NS["_ch08_norm_backward"](wrong, cache["norm_cache"])
            return back.transpose(0, 2, 1).reshape(dout.shape), dgamma, dbeta
        return dx, dgamma, dbeta

    return backward


def test_gn_backward_hints():
    check = NS["check_gn_backward"]
    expect(lambda: check(gn_variant("none")), "three arrays")
    expect(lambda: check(gn_variant("two")), "three arrays")
    expect(lambda: check(gn_variant("dbeta")), "dbeta")
    expect(lambda: check(gn_variant("dgamma_dbeta")), "dgamma equals dbeta")
    expect(lambda: check(gn_variant("no_gamma")), "ignores gamma")
    expect(lambda: check(gn_variant("nan")), "NaN")
    expect(lambda: check(gn_variant("interleaved")), "reshape")
    passes("08.2", lambda: check(gn_variant("right")))


# ---------------------------------------------------------------- 08.3 to 08.5


def test_norm_after_step_hints():
    check = NS["check_norm_after_step"]
    expect(lambda: check(lambda a, b, lr: None), "None")
    expect(lambda: check(lambda a, b, lr: a), "does not change")
    expect(lambda: check(lambda a, b, lr: a + lr * b), "parallel")
    expect(lambda: check(lambda a, b, lr: a**2 + lr**2 * b**2), "squared")
    expect(lambda: check(lambda a, b, lr: float("nan")), "finite")
    passes("08.3", lambda: check(NS["norm_after_step"]))


def test_group_extremes_hints():
    check = NS["check_group_extremes"]
    expect(lambda: check(lambda: "LN"), "pair")
    expect(lambda: check(lambda: ("LN", "XX")), "one of")
    expect(lambda: check(lambda: ("IN", "LN")), "one group", forbidden=("LN", "IN"))
    expect(lambda: check(lambda: ("LN", "BN")), "C groups", forbidden=("IN",))
    passes("08.4", lambda: check(lambda: ("LN", "IN")))


def test_deployment_choice():
    check = NS["check_deployment"]
    expect(lambda: check(lambda: "e"), "return one letter")
    for wrong in "acd":
        expect(lambda: check(lambda: wrong), "not the best answer")
    passes("08.5", lambda: check(lambda: "b"))
