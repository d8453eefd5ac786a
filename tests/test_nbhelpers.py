"""Unit tests of the shared notebook helpers in tools/nbhelpers.py."""

import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from tools import nbhelpers as h  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_switches(monkeypatch):
    """Every test starts with the slider and bench switches unset, whatever the caller's environment.

    Set and then delete through monkeypatch, so that the original state (unset or not) is restored
    after the test even if the code under test writes os.environ directly.
    """
    for name in (h.STATIC_WIDGETS_ENV, h.BENCH_ENV):
        monkeypatch.setenv(name, "0")
        monkeypatch.delenv(name)


def test_compare_passes_equal_and_fails_different(capsys):
    x = np.linspace(-1, 1, 7)
    assert h.compare("same", x, torch.tensor(x)) == 0.0
    assert "same" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="max difference 1.000e-06"):
        h.compare("off", x + 1e-6, x)
    with pytest.raises(AssertionError, match=r"shape \(7,\) differs from the reference's \(1, 7\)"):
        h.compare("shape", x, x[None])


def test_numerical_gradient_of_known_functions():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    grad = h.numerical_gradient(lambda: np.sum(x ** 3), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)
    dout = np.array([[1.0, 2.0], [-1.0, 0.5]])
    grad = h.numerical_gradient(lambda: np.sin(x), x, dout)
    np.testing.assert_allclose(grad, dout * np.cos(x), rtol=1e-8)


def test_grad_check_catches_a_wrong_gradient():
    x = np.array([0.4, -0.7, 1.3])
    assert h.grad_check("ok", 2 * x, lambda: np.sum(x ** 2), x) < 1e-7
    with pytest.raises(AssertionError, match="relative error"):
        h.grad_check("wrong", 2.001 * x, lambda: np.sum(x ** 2), x)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                  elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_rel_error_is_zero_for_equal_and_symmetric(a):
    assert h.rel_error(a, a) == 0.0
    b = a + 1.0
    assert h.rel_error(a, b) == pytest.approx(h.rel_error(b, a))


@pytest.mark.parametrize("value, hint", [
    (None, "is None"),
    (torch.zeros(2, 3), "torch tensor"),
    (np.zeros((3, 2)), r"has shape \(3, 2\), but the check expected \(2, 3\)"),
    (np.full((2, 3), np.nan), "NaN"),
    (np.array([["a", "b", "c"]] * 2), "should hold numbers"),
])
def test_expect_array_explains_what_is_wrong(value, hint):
    with pytest.raises(h.Hint, match=hint):
        h.expect_array("dx", value, (2, 3))


def test_expect_array_accepts_a_good_answer():
    assert h.expect_array("dx", [[1, 2, 3], [4, 5, 6]], (2, 3)).shape == (2, 3)


def test_self_check_reports_without_traceback(capsys):
    def not_done():
        raise NotImplementedError("Exercise 99.1: not implemented yet")

    def wrong():
        raise h.Hint("the sign is flipped")

    def crashes():
        return {}["missing"]

    def needs_other():
        raise NotImplementedError("Exercise 99.2: not implemented yet")

    for check in (lambda: None, not_done, wrong, crashes, needs_other):
        assert h.self_check("99.1", check) is None  # no stray `Out:` line under the cell
    out = capsys.readouterr().out
    assert "Exercise 99.1: passes the self-check." in out
    assert "Exercise 99.1: not attempted yet" in out
    assert "not yet right. the sign is flipped" in out
    assert "your code raised KeyError" in out and "Traceback" not in out
    assert "waiting for Exercise 99.2" in out
    with pytest.raises(AssertionError, match="Exercise 99.1: not yet right. the sign is flipped"):
        h.self_check("99.1", wrong, strict=True)
    assert h.self_check("99.1", lambda: None, strict=True) is True
    assert capsys.readouterr().out == "", "grading runs print nothing on success: no 'correct' beside a lost point"


def test_wine_data_is_split_raw_and_reproducible():
    x_train, y_train, x_test, y_test = h.load_wine_data(seed=1)
    assert x_train.shape == (125, 13) and x_test.shape == (53, 13)
    assert set(np.unique(y_train)) == {0, 1, 2}
    scales = x_train.std(axis=0)
    assert scales.max() / scales.min() > 1000  # unstandardized on purpose
    np.testing.assert_array_equal(h.load_wine_data(seed=1)[0], x_train)


def _figure():
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])

    def draw(slope, offset="a"):
        line.set_ydata([0 + (offset == "b"), slope])

    return fig, draw


def test_static_slider_embeds_every_frame(monkeypatch):
    shown = []
    monkeypatch.setenv(h.STATIC_WIDGETS_ENV, "1")
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, draw = _figure()
    result = h.slider_figure(draw, fig, 'a "line" whose slope moves', slope=([0.5, 1.0, 2.0], 1.0),
                             offset=(["a", "b"], "b"))
    assert result is None and len(shown) == 1
    page = shown[0].data
    assert 'data-frames="6"' in page
    assert len(set(re.findall(r'"(\d,\d)": "', page))) == 6
    assert 'alt="a &quot;line&quot; whose slope moves"' in page
    assert 'value="1"' in page  # both sliders start at their initial values' positions


def test_live_slider_builds_widgets(monkeypatch):
    import ipywidgets

    shown = []
    monkeypatch.delenv(h.STATIC_WIDGETS_ENV, raising=False)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, draw = _figure()
    assert h.slider_figure(draw, fig, "a line", slope=([0.5, 1.0, 2.0], 1.0)) is None
    box = shown[0]
    assert isinstance(box, ipywidgets.VBox)
    slider, image = box.children
    first = image.value
    assert first[:4] == b"\x89PNG"
    slider.value = 2.0  # what moving the slider does
    assert image.value != first


@pytest.mark.parametrize("kwargs, message", [
    ({}, "at least one slider"),
    ({"slope": 3}, r"must be given as \(values, initial\)"),
    ({"slope": ([1, 2], 5)}, "initial value 5 is not one of its values"),
])
def test_slider_figure_rejects_bad_specifications(kwargs, message):
    fig, draw = _figure()
    with pytest.raises(ValueError, match=message):
        h.slider_figure(draw, fig, "alt", **kwargs)


@pytest.mark.parametrize("value, static", [(None, False), ("0", False), ("1", True)])
def test_static_switch_values(monkeypatch, value, static):
    if value is not None:
        monkeypatch.setenv(h.STATIC_WIDGETS_ENV, value)
    assert h.static_widgets_enabled() is static


@pytest.mark.parametrize("value", ["", "true", "false", "yes", "2", " 1", "1 "])
def test_static_switch_rejects_other_values(monkeypatch, value):
    monkeypatch.setenv(h.STATIC_WIDGETS_ENV, value)
    message = rf'DEEPTRAIN_STATIC_WIDGETS must be unset, "0" \(live widgets\) or "1" \(static HTML\), got {re.escape(repr(value))}'
    with pytest.raises(ValueError, match=message):
        h.static_widgets_enabled()
    fig, draw = _figure()
    with pytest.raises(ValueError, match="DEEPTRAIN_STATIC_WIDGETS must be"):
        h.slider_figure(draw, fig, "a line", slope=([0.5, 1.0], 1.0))


@pytest.mark.parametrize("static", [False, True])
def test_slider_figure_refuses_more_than_40_frames(monkeypatch, static):
    monkeypatch.setattr("IPython.display.display", lambda obj: None)
    if static:
        monkeypatch.setenv(h.STATIC_WIDGETS_ENV, "1")
    fig, draw = _figure()
    with pytest.raises(ValueError, match=r"41 frames asked for \(41 \(slope\) values\); at most 40"):
        h.slider_figure(draw, fig, "a line", slope=(list(range(41)), 0))
    with pytest.raises(ValueError, match=r"42 frames asked for \(7 \(slope\) x 2 \(offset\) x 3 \(extra\) values\)"):
        h.slider_figure(lambda **kw: draw(kw["slope"], kw["offset"]), fig, "a line", slope=(list(range(7)), 0),
                        offset=(["a", "b"], "a"), extra=([1, 2, 3], 1))
    h.slider_figure(draw, fig, "a line", slope=(list(range(8)), 0), offset=(["a", "b", "c", "d", "e"], "a"))


def _live_slider(monkeypatch, **sliders):
    """A live slider figure whose draw calls are counted; returns (sliders, image widget, calls)."""
    shown, calls = [], []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, draw = _figure()

    def counted(**values):
        calls.append(values)
        draw(**values)

    h.slider_figure(counted, fig, "a line", **sliders)
    *controls, image = shown[0].children
    return controls, image, calls


def test_live_slider_answers_a_seen_value_from_its_cache(monkeypatch):
    (slope, offset), image, calls = _live_slider(monkeypatch, slope=([0.5, 1.0, 2.0], 1.0), offset=(["a", "b"], "a"))
    assert calls == [{"slope": 1.0, "offset": "a"}]
    first = image.value
    slope.value = 2.0
    assert len(calls) == 2 and image.value != first
    second = image.value
    slope.value = 1.0  # back to the first frame: no drawing
    assert len(calls) == 2 and image.value == first
    offset.value = "b"
    assert calls[-1] == {"slope": 1.0, "offset": "b"} and len(calls) == 3
    offset.value = "a"
    slope.value = 2.0
    assert len(calls) == 3 and image.value == second


def test_bench_mode_records_every_frame_of_a_live_slider(monkeypatch, tmp_path):
    records = tmp_path / "bench.jsonl"
    monkeypatch.setenv(h.BENCH_ENV, str(records))
    (slope, offset), image, calls = _live_slider(monkeypatch, slope=([0.5, 1.0, 2.0], 1.0), offset=(["a", "b"], "b"))
    [record] = [json.loads(line) for line in records.read_text().splitlines()]
    assert record["kind"] == "slider" and record["figure"] == "counted"
    assert record["sliders"] == ["slope", "offset"] and record["frames"] == 6
    assert len(record["ms"]) == len(record["cpu_ms"]) == len(record["png_bytes"]) == 6 and min(record["png_bytes"]) > 0
    assert record["bench_seconds"] >= 0
    drawn = [(c["slope"], c["offset"]) for c in calls]
    assert sorted(set(drawn)) == sorted((s, o) for s in [0.5, 1.0, 2.0] for o in "ab")
    assert drawn[-1] == (1.0, "b"), "the figure is left showing the initial values"
    before = len(calls)
    slope.value, offset.value = 0.5, "a"  # every frame was drawn by the bench: moves cost nothing
    assert len(calls) == before and image.value[:4] == b"\x89PNG"


def test_static_slider_does_not_bench(monkeypatch, tmp_path):
    records = tmp_path / "bench.jsonl"
    monkeypatch.setenv(h.BENCH_ENV, str(records))
    monkeypatch.setenv(h.STATIC_WIDGETS_ENV, "1")
    monkeypatch.setattr("IPython.display.display", lambda obj: None)
    fig, draw = _figure()
    h.slider_figure(draw, fig, "a line", slope=([0.5, 1.0], 1.0))
    assert not records.exists()


def test_benchmark_layer_does_nothing_in_a_normal_run(capsys):
    def never():
        raise AssertionError("called outside a bench run")

    assert h.benchmark_layer("relu", never, never) is None
    assert capsys.readouterr() == ("", "")


def test_benchmark_layer_records_in_a_bench_run(monkeypatch, tmp_path, capsys):
    records = tmp_path / "bench.jsonl"
    monkeypatch.setenv(h.BENCH_ENV, str(records))
    threads = torch.get_num_threads()
    seen = {"numpy": [], "torch": []}
    x = np.linspace(-1, 1, 64)
    x_t = torch.tensor(x, requires_grad=True)

    def numpy_fn():
        seen["numpy"].append(torch.get_num_threads())
        return np.maximum(x, 0), (x > 0) * 1.0

    def torch_fn():
        seen["torch"].append(torch.get_num_threads())
        torch.relu(x_t).sum().backward()

    assert h.benchmark_layer("relu, 64", numpy_fn, torch_fn, repeat=4) is None
    [record] = [json.loads(line) for line in records.read_text().splitlines()]
    assert record["kind"] == "layer" and record["name"] == "relu, 64" and record["repeat"] == 4
    assert len(record["numpy_runs_ms"]) == len(record["torch_runs_ms"]) == 4
    assert record["numpy_ms"] == pytest.approx(float(np.median(record["numpy_runs_ms"])))
    assert record["ratio"] == pytest.approx(record["numpy_ms"] / record["torch_ms"])
    assert seen == {"numpy": [1] * 5, "torch": [1] * 5}, "one warm-up call each, then 4, all on one thread"
    assert torch.get_num_threads() == threads, "the thread setting is restored"
    assert "relu, 64: NumPy" in capsys.readouterr().out


def test_limit_threads(monkeypatch):
    import sys

    threads = torch.get_num_threads()
    try:
        h.limit_threads(1)
        assert torch.get_num_threads() == 1
        monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # as if scikit-learn were not installed
        h.limit_threads(2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_expect_raises(capsys):
    def bad(x):
        raise ValueError(f"x must be positive, got {x}")

    h.expect_raises("must be positive", bad, -1)
    assert "ValueError as expected: x must be positive, got -1" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="lacks 'negative'"):
        h.expect_raises("negative", bad, -1)
    with pytest.raises(AssertionError, match="nothing was raised"):
        h.expect_raises("anything", lambda: None)
    with pytest.raises(AssertionError, match="expected a RuntimeError"):
        h.expect_raises("x", lambda: None, error=RuntimeError)


def test_compact_frames_are_smaller_pngs():
    fig, draw = _figure()
    draw(slope=2.0)
    full, compact = h._render_png(fig), h._render_png(fig, compact=True)
    assert compact[:4] == b"\x89PNG" and len(compact) < 0.6 * len(full)


def test_compact_frames_keep_every_book_colour():
    import io

    from PIL import Image

    fig, ax = plt.subplots()
    x = np.linspace(0, 10, 200)
    for k, color in enumerate(h.BOOK_COLORS):
        ax.plot(x, np.sin(x + k), color=color, lw=1.2)
    pixels = np.asarray(Image.open(io.BytesIO(h._render_png(fig, compact=True))).convert("RGB")).reshape(-1, 3)
    for color in h.BOOK_COLORS:
        rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels.astype(int) - rgb).sum(axis=1) < 12).sum() > 100, f"{color} lost in quantization"
    plt.close(fig)


def test_website_build_switches_sliders_to_static_through_its_own_kernel(tmp_path, monkeypatch):
    import importlib.util
    import json
    import os

    import yaml

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("static_widgets", ROOT / "book/_ext/static_widgets.py")
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    assert extension.STATIC_WIDGETS_ENV == h.STATIC_WIDGETS_ENV
    monkeypatch.delenv(h.STATIC_WIDGETS_ENV, raising=False)
    before = dict(os.environ)
    folder = extension.ensure_kernel(prefix=tmp_path)
    kernel = json.loads((folder / "kernel.json").read_text())
    assert kernel["env"] == {h.STATIC_WIDGETS_ENV: "1"} and kernel["argv"][0]
    assert folder.name == extension.STATIC_KERNEL
    assert dict(os.environ) == before, "the extension must not change the build process's environment"
    assert extension.ensure_kernel(prefix=tmp_path) == folder  # idempotent
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    aliases = config["sphinx"]["config"]["nb_kernel_rgx_aliases"]
    assert aliases == {"python3": extension.STATIC_KERNEL}

    class Config:
        nb_kernel_rgx_aliases = {}

    with pytest.raises(RuntimeError, match="nb_kernel_rgx_aliases"):
        extension._check_alias(None, Config())
