"""General helpers that the chapters use.

This module is the single source of the helper code that notebooks carry. ``python -m tools sync``
copies into each notebook's generated cell exactly the definitions below that the notebook uses
(and what those definitions use in turn), so a chapter opened alone in Colab still runs.

Rules for this file, so that the copying stays correct:
- only imports, function and class definitions, and simple constant assignments at the top level;
- every top-level import is of a package that Colab ships (numpy, matplotlib, torch, ipywidgets,
  IPython, scikit-learn) or of the standard library.
"""

import base64
import html
import io
import itertools
import json
import os
import time
import uuid

import numpy as np

# Okabe & Ito's palette: distinguishable under the common forms of colour blindness.
BOOK_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

# Set by the website build (book/_ext/static_widgets.py), so that sliders become static HTML there.
STATIC_WIDGETS_ENV = "DEEPTRAIN_STATIC_WIDGETS"


def use_book_style():
    """Matplotlib defaults for the book: colour-blind-safe colours, figures that fit the page."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=BOOK_COLORS),
        "figure.figsize": (7.0, 3.6),
        "figure.dpi": 80,
        "savefig.dpi": 80,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
    })


def seed_everything(seed=0):
    """Seed torch's global generator and return a fresh ``np.random.Generator``."""
    import torch

    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def to_numpy(value):
    """A NumPy array from a NumPy array, a torch tensor (detached) or a number."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def compare(name, ours, reference, rtol=1e-10, atol=0.0):
    """Assert that ``ours`` equals ``reference`` to ``rtol``/``atol`` and print one aligned line.

    The line gives the largest absolute difference and the largest difference relative to the
    reference's scale, so a reader sees how close the two are, not only that they are.
    """
    a, b = to_numpy(ours), to_numpy(reference)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shape {a.shape} differs from the reference's {b.shape}")
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    ok = np.allclose(a, b, rtol=rtol, atol=atol)
    print(f"{name:<34s} max|diff| = {diff:9.2e}   relative to max|ref| = {diff / max(scale, 1e-300):9.2e}"
          f"   {'ok' if ok else 'FAIL'}")
    if not ok:
        raise AssertionError(f"{name}: max difference {diff:.3e} exceeds rtol={rtol:g}, atol={atol:g}")
    return diff


def rel_error(a, b):
    """Largest elementwise relative error, the measure used for gradient checks."""
    a, b = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, dout=None, h=1e-6):
    """Central finite differences of ``sum(f(x) * dout)`` with respect to the array ``x``.

    ``f`` takes no arguments and reads ``x``, which is perturbed in place and restored.
    With ``dout=None``, ``f`` must return a scalar.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.asarray(f(), dtype=np.float64)
        x[i] = old - h
        minus = np.asarray(f(), dtype=np.float64)
        x[i] = old
        grad[i] = np.sum((plus - minus) * (1.0 if dout is None else dout)) / (2 * h)
        it.iternext()
    return grad


def grad_check(name, analytic, f, x, dout=None, h=1e-6, tol=1e-7):
    """Assert that ``analytic`` matches central finite differences of ``f`` at ``x``."""
    numeric = numerical_gradient(f, x, dout, h)
    err = rel_error(analytic, numeric)
    print(f"{name:<34s} relative error vs finite differences = {err:9.2e}   {'ok' if err < tol else 'FAIL'}")
    if not err < tol:
        raise AssertionError(f"{name}: relative error {err:.2e} against finite differences exceeds {tol:g}")
    return err


def time_call(fn, repeat=7, number=1):
    """Median wall time of ``fn()`` in milliseconds over ``repeat`` runs of ``number`` calls."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return 1e3 * float(np.median(times))


def expect_raises(message_part, fn, *args, error=ValueError, **kwargs):
    """Assert that ``fn(*args, **kwargs)`` raises ``error`` whose message contains ``message_part``."""
    try:
        fn(*args, **kwargs)
    except error as err:
        if message_part not in str(err):
            raise AssertionError(f"{error.__name__} raised, but its message {str(err)!r} lacks {message_part!r}") from None
        print(f"{error.__name__} as expected: {err}")
        return
    raise AssertionError(f"expected a {error.__name__} mentioning {message_part!r}; nothing was raised")


class Hint(Exception):
    """Raised by a self-check to tell the student, in plain words, what is wrong."""


def expect_array(name, value, shape, dtype_kind="f"):
    """Raise a :class:`Hint` unless ``value`` is a finite array of the given shape."""
    if value is None:
        raise Hint(f"{name} is None. Did the function forget to `return` it?")
    if hasattr(value, "detach"):
        raise Hint(f"{name} is a torch tensor; return a NumPy array (use NumPy operations only).")
    try:
        arr = np.asarray(value)
    except Exception:
        raise Hint(f"{name} could not be turned into an array (got a {type(value).__name__}).") from None
    if arr.dtype == object or arr.dtype.kind not in "fiu":
        raise Hint(f"{name} should hold numbers, but its dtype is {arr.dtype}.")
    if arr.shape != tuple(shape):
        raise Hint(f"{name} has shape {arr.shape}, but the check expected {tuple(shape)}. "
                   "Look at which axis you reduced over or whether keepdims is needed.")
    if not np.all(np.isfinite(arr)):
        raise Hint(f"{name} contains NaN or infinite values. Look for a division by zero or a missing eps.")
    return arr


def self_check(exercise, check, strict=False):
    """Run ``check()`` for an exercise and report the result in plain words.

    ``check`` raises :class:`Hint` with an explanation when the answer is wrong. Any other
    exception raised by the student's code is reported, not shown as a traceback. With
    ``strict=True`` (used by the grading tests) a failure raises ``AssertionError``.
    """
    try:
        check()
    except NotImplementedError:
        message = "not attempted yet: replace the `raise NotImplementedError` line with your code."
    except Hint as hint:
        message = f"not yet right. {hint}"
    except Exception as err:  # the student's code failed: say where, without a traceback
        message = f"your code raised {type(err).__name__}: {err}"
    else:
        print(f"Exercise {exercise}: correct.")
        return True
    print(f"Exercise {exercise}: {message}")
    if strict:
        raise AssertionError(f"Exercise {exercise}: {message}")
    return False


def load_wine_data(seed=0, test_fraction=0.3):
    """scikit-learn's bundled wine data (178 samples, 13 features, 3 classes), split and shuffled.

    The features are returned raw, not standardized: their scales differ by three orders of
    magnitude, which is the point of several experiments. Returns float64 arrays
    ``(x_train, y_train, x_test, y_test)``.
    """
    from sklearn.datasets import load_wine

    data = load_wine()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.target))
    x, y = data.data[order].astype(np.float64), data.target[order].astype(np.int64)
    n_test = int(round(test_fraction * len(y)))
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def _render_png(fig, compact=False):
    """The figure as PNG bytes; ``compact`` quantizes to 128 colours: about a third of the size for line plots."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    if not compact:
        return buffer.getvalue()
    from PIL import Image

    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                                                       dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _static_slider_html(draw, fig, names, grids, initial, alt):
    """Every combination of slider values drawn once, with a small script that swaps the image."""
    frames = {}
    for combo in itertools.product(*[range(len(g)) for g in grids]):
        draw(**{n: g[i] for n, g, i in zip(names, grids, combo)})
        frames[",".join(map(str, combo))] = base64.b64encode(_render_png(fig, compact=True)).decode()
    uid = "slider-" + uuid.uuid4().hex[:10]
    alt = html.escape(alt, quote=True)
    start = ",".join(str(g.index(initial[n])) for n, g in zip(names, grids))
    rows = []
    for k, (n, g) in enumerate(zip(names, grids)):
        rows.append(
            f'<label style="display:flex;gap:0.6em;align-items:center;margin:0.2em 0">'
            f'<span style="min-width:9em">{html.escape(n)}</span>'
            f'<input type="range" min="0" max="{len(g) - 1}" step="1" value="{g.index(initial[n])}" '
            f'data-axis="{k}" aria-label="{n}" style="flex:1;max-width:22em">'
            f'<output style="min-width:5em">{_format_value(initial[n])}</output></label>')
    labels = json.dumps([[_format_value(v) for v in g] for g in grids])
    return (
        f'<div class="static-slider" id="{uid}" data-frames="{len(frames)}">{"".join(rows)}'
        f'<img src="data:image/png;base64,{frames[start]}" alt="{alt}" style="max-width:100%;height:auto">'
        f'<script>(function(){{const root=document.getElementById("{uid}");'
        f'const frames={json.dumps(frames)};const labels={labels};'
        f'const inputs=root.querySelectorAll("input");const img=root.querySelector("img");'
        f'function update(){{const key=Array.from(inputs).map(i=>i.value).join(",");img.src="data:image/png;base64,"+frames[key];'
        f'inputs.forEach((inp,k)=>{{inp.parentNode.querySelector("output").textContent=labels[k][inp.value];}});}}'
        f'inputs.forEach(i=>i.addEventListener("input",update));}})();</script></div>'
    )


def _format_value(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def slider_figure(draw, fig, alt, **sliders):
    """Show ``fig`` with one slider per keyword; moving a slider calls ``draw(**values)`` and redraws.

    Each keyword is ``name=(values, initial)``: the list of values the slider steps through and
    the one shown first. ``draw`` updates ``fig`` in place (reuse its artists: it should be fast).
    ``alt`` says in words what the figure shows; it is the image's alt text.

    In Jupyter and Colab this builds live ipywidgets (7.7 and 8 alike). When the website is built,
    the environment variable ``DEEPTRAIN_STATIC_WIDGETS`` is set and the same call instead draws every
    combination once and emits plain HTML whose sliders swap the pre-rendered images: it moves
    without a kernel and needs no widget JavaScript.
    """
    from IPython.display import HTML, display
    import matplotlib.pyplot as plt

    names = list(sliders)
    if not names:
        raise ValueError("slider_figure needs at least one slider, given as name=(values, initial)")
    grids, initial = [], {}
    for name, spec in sliders.items():
        try:
            values, start = spec
            values = list(values)
        except (TypeError, ValueError):
            raise ValueError(f"slider {name!r} must be given as (values, initial), got {spec!r}") from None
        if start not in values:
            raise ValueError(f"slider {name!r}: initial value {start!r} is not one of its values {values}")
        grids.append(values)
        initial[name] = start
    plt.close(fig)  # the figure is shown through the slider, not a second time by the inline backend
    if os.environ.get(STATIC_WIDGETS_ENV):
        display(HTML(_static_slider_html(draw, fig, names, grids, initial, alt)))
        draw(**initial)
        return
    import ipywidgets as widgets

    controls = [widgets.SelectionSlider(options=[(_format_value(v), v) for v in g], value=initial[n],
                                        description=n, continuous_update=True,
                                        style={"description_width": "initial"},
                                        layout=widgets.Layout(width="28em"))
                for n, g in zip(names, grids)]
    image = widgets.Image(format="png")

    def update(_change=None):
        draw(**{c.description: c.value for c in controls})
        image.value = _render_png(fig)

    for control in controls:
        control.observe(update, names="value")
    update()
    display(widgets.VBox(controls + [image]))


def time_slider_callback(draw, fig, **values):
    """Milliseconds that one slider move costs: ``draw(**values)`` plus rendering the PNG shown.

    The fastest of seven runs: the callback's own cost, not the noise of a machine that is busy with
    something else (on an idle machine the median is within a few percent of it).
    """
    _render_png(fig)
    return min(time_call(lambda: (draw(**values), _render_png(fig)), repeat=1) for _ in range(7))
