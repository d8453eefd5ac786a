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

# Set to "1" by the website build (book/_ext/static_widgets.py), so that sliders become static HTML
# there; unset or "0" means live widgets. See static_widgets_enabled.
STATIC_WIDGETS_ENV = "DEEPTRAIN_STATIC_WIDGETS"

# Set by `python -m tools bench` to the path of a JSON-lines file: slider_figure and benchmark_layer
# then measure and append one record each. Unset in normal runs, where they measure nothing.
BENCH_ENV = "DEEPTRAIN_BENCH"

# The website embeds every frame of a slider figure, so their number per figure is capped.
MAX_SLIDER_FRAMES = 40


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


def limit_threads(n=1):
    """Pin torch and the BLAS/OpenMP thread pools that NumPy uses to ``n`` threads.

    The chapters' arrays are small: on a many-core machine extra threads mostly wait on each other.
    The BLAS pools are limited through threadpoolctl (it comes with scikit-learn) when it is
    installed; without it only torch is pinned.
    """
    import torch

    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(n)


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


def _bench_record(record):
    """Append ``record`` as one JSON line to the file named by ``DEEPTRAIN_BENCH`` (bench runs only)."""
    with open(os.environ[BENCH_ENV], "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def benchmark_layer(name, numpy_fn, torch_fn, repeat=15):
    """Time a NumPy layer against torch's for ``python -m tools bench``; does nothing otherwise.

    ``numpy_fn`` and ``torch_fn`` take no arguments and each run one forward and one backward pass.
    In a normal run this returns at once without calling them. In a bench run (``DEEPTRAIN_BENCH``
    set) both run single-threaded (torch and BLAS pinned to one thread, restored afterwards), once
    to warm up and then ``repeat`` times each, interleaved so that both see the same machine load;
    the medians and their ratio go to the bench's table. Returns None.
    """
    if not os.environ.get(BENCH_ENV):
        return
    import contextlib

    import torch

    began = time.perf_counter()
    torch_threads = torch.get_num_threads()  # before threadpoolctl, which also limits torch's OpenMP pool
    try:
        from threadpoolctl import threadpool_limits
        blas_limit = threadpool_limits(1)
    except ImportError:
        blas_limit = contextlib.nullcontext()
    torch.set_num_threads(1)
    times = {"numpy": [], "torch": []}
    try:
        with blas_limit:
            numpy_fn()
            torch_fn()
            for k in range(repeat):
                pair = [("numpy", numpy_fn), ("torch", torch_fn)]
                for key, fn in pair if k % 2 == 0 else pair[::-1]:
                    start = time.perf_counter()
                    fn()
                    times[key].append(1e3 * (time.perf_counter() - start))
    finally:
        torch.set_num_threads(torch_threads)
    numpy_ms, torch_ms = float(np.median(times["numpy"])), float(np.median(times["torch"]))
    _bench_record({"kind": "layer", "name": name, "repeat": repeat, "threads": 1,
                   "numpy_ms": numpy_ms, "torch_ms": torch_ms, "ratio": numpy_ms / torch_ms,
                   "numpy_runs_ms": times["numpy"], "torch_runs_ms": times["torch"],
                   "bench_seconds": time.perf_counter() - began})
    print(f"{name}: NumPy {numpy_ms:.3g} ms, torch {torch_ms:.3g} ms (one thread, median of {repeat})")


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


class CheckFailed(AssertionError):
    """A failed grading check, shown as its message alone: IPython renders ``_render_traceback_``.

    A student's feedback then says what is wrong without printing the hidden tests' code.
    """

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


def self_check(exercise, check, strict=False):
    """Run ``check()`` for an exercise and report the result in plain words.

    ``check`` raises :class:`Hint` with an explanation when the answer is wrong. Any other
    exception raised by the student's code is reported, not shown as a traceback. Returns None,
    so a notebook shows no stray ``Out:`` line. With ``strict=True`` (the grading tests) nothing is
    printed on success, True is returned, and a failure raises :class:`CheckFailed` with the message.
    """
    import re

    try:
        check()
    except NotImplementedError as err:
        other = re.search(r"Exercise (\d\d\.\d+)", str(err))
        if other and other.group(1) != exercise:
            message = f"waiting for Exercise {other.group(1)}, which this one uses: do that one first."
        else:
            message = "not attempted yet: replace the `raise NotImplementedError` line with your code."
    except Hint as hint:
        message = f"not yet right. {hint}"
    except Exception as err:  # the student's code failed: say where, without a traceback
        message = f"your code raised {type(err).__name__}: {err}"
    else:
        if strict:
            return True
        print(f"Exercise {exercise}: passes the self-check.")
        return None
    if strict:
        raise CheckFailed(f"Exercise {exercise}: {message}")
    print(f"Exercise {exercise}: {message}")
    return None


def check_choice(answer, key):
    """Check a multiple-choice answer against ``key``, written by ``python -m tools choice-key``.

    ``answer`` is what the student's function returned: one letter, in either case. ``key`` holds
    the exercise id, the letters, and salted hashes and base64 text only, so reading the checker
    does not show which letter is right. A letter that is not an option, or a wrong one, raises
    :class:`Hint` (a wrong one with that option's feedback); the right one prints its explanation.
    """
    import base64
    import hashlib
    import textwrap

    letters = list(key["letters"])
    letter = answer.strip().lower() if isinstance(answer, str) else None
    if letter not in letters:
        options = ", ".join(f"'{c}'" for c in letters[:-1]) + f" or '{letters[-1]}'"
        raise Hint(f"return one letter, {options} (either case), as a string; got {answer!r}.")

    def digest(text):
        return hashlib.sha256(f"{key['exercise']}:{text}".encode()).hexdigest()[:16]

    feedback = base64.b64decode("".join(key["feedback"][digest(letter)])).decode()
    if digest("right:" + letter) != key["right"]:
        raise Hint(f"({letter}) is not the best answer. {feedback}")
    print(textwrap.fill(f"({letter}): {feedback}", 96))


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
    """The figure as PNG bytes, at the figure's dpi.

    The figure is drawn once on an Agg canvas and encoded by Pillow. (``savefig`` costs about twice as
    much: after ``tight_layout`` it lays the figure out in a discarded pass before the real one.)
    ``compact`` quantizes to 128 colours, about a third of the size for line plots: the website's
    frames. Otherwise the PNG is compressed lightly, which is fastest: a live slider's frame travels
    only to the browser.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    out = io.BytesIO()
    if compact:
        image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="PNG", compress_level=1)
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


def static_widgets_enabled():
    """Whether sliders are drawn as static HTML: ``DEEPTRAIN_STATIC_WIDGETS`` is "1".

    Unset or "0" means live widgets; any other value raises ValueError, so that a typo (or a value
    such as "false") does not silently select the mode it seems to deny.
    """
    value = os.environ.get(STATIC_WIDGETS_ENV)
    if value is None or value == "0":
        return False
    if value == "1":
        return True
    raise ValueError(f"{STATIC_WIDGETS_ENV} must be unset, \"0\" (live widgets) or \"1\" (static HTML), "
                     f"got {value!r}")


def _bench_slider(draw, fig, names, grids, initial, frames):
    """Bench runs: draw and render every combination once (a first visit's cost) and record the times.

    The PNGs go into ``frames``, the live slider's cache; the figure is left showing ``initial``.
    Besides the wall time, the process's CPU time: well below the wall time means a busy machine.
    """
    began = time.perf_counter()
    times, cpu_times, sizes = [], [], []
    for combo in itertools.product(*[range(len(g)) for g in grids]):
        start, cpu_start = time.perf_counter(), time.process_time()
        draw(**{n: g[i] for n, g, i in zip(names, grids, combo)})
        png = _render_png(fig)
        times.append(1e3 * (time.perf_counter() - start))
        cpu_times.append(1e3 * (time.process_time() - cpu_start))
        frames[combo] = png
        sizes.append(len(png))
    draw(**initial)
    _bench_record({"kind": "slider", "figure": getattr(draw, "__name__", "draw"), "sliders": names,
                   "frames": len(times), "ms": times, "cpu_ms": cpu_times, "png_bytes": sizes,
                   "bench_seconds": time.perf_counter() - began})


def slider_figure(draw, fig, alt, **sliders):
    """Show ``fig`` with one slider per keyword; moving a slider calls ``draw(**values)`` and redraws.

    Each keyword is ``name=(values, initial)``: the list of values the slider steps through and
    the one shown first. ``draw`` updates ``fig`` in place (reuse its artists: it should be fast).
    ``alt`` says in words what the figure shows; it is the image's alt text. At most 40 frames (the
    product of the sliders' lengths) per figure: more raise ValueError.

    In Jupyter and Colab this builds live ipywidgets (7.7 and 8 alike); each combination is drawn
    the first time it is shown and kept, so moving back to it costs nothing. When the website is
    built, the environment variable ``DEEPTRAIN_STATIC_WIDGETS`` is "1" and the same call instead draws
    every combination once and emits plain HTML whose sliders swap the pre-rendered images: it moves
    without a kernel and needs no widget JavaScript. Under ``python -m tools bench`` the live path also
    times every combination once.
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
    count = 1
    for values in grids:
        count *= len(values)
    if count > MAX_SLIDER_FRAMES:
        sizes = " x ".join(f"{len(g)} ({n})" for n, g in zip(names, grids))
        raise ValueError(f"slider_figure: {count} frames asked for ({sizes} values); at most {MAX_SLIDER_FRAMES} "
                         "per figure, because the website embeds every frame. Use fewer values.")
    static = static_widgets_enabled()
    plt.close(fig)  # the figure is shown through the slider, not a second time by the inline backend
    if static:
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
    frames = {}  # (index of each slider's value) -> PNG: each combination is drawn once

    def update(_change=None):
        key = tuple(c.index for c in controls)
        if key not in frames:
            draw(**{n: c.value for n, c in zip(names, controls)})
            frames[key] = _render_png(fig)
        image.value = frames[key]

    for control in controls:
        control.observe(update, names="value")
    update()
    if os.environ.get(BENCH_ENV):
        _bench_slider(draw, fig, names, grids, initial, frames)
    display(widgets.VBox(controls + [image]))
