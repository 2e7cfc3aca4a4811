"""Every figure of the book, drawn from plain arrays and tables with matplotlib.

Functions return the `Figure`; in a notebook the inline backend shows it. All figures share one
style (grey digits on white, no ticks, titles in sentence case).
"""
from __future__ import annotations

import matplotlib

import matplotlib.pyplot as plt
import numpy as np

from lib import data

DIGIT_CMAP = "gray"
METHOD_COLOURS = {
    "clean": "#4d4d4d", "masked": "#999999", "telea": "#1f77b4", "navier-stokes": "#17becf",
    "paper gan": "#d62728", "recommended": "#2ca02c", "realistic": "#9467bd", "book": "#e6550d",
}
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 100, "axes.spines.top": False, "axes.spines.right": False,
    "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "font.size": 9,
}
matplotlib.rcParams.update(STYLE)


def _as_uint8_digits(images, name="images"):
    """Accept uint8 [0, 255] or float [-1, 1] digits, (N, H, W) or (N, H, W, 1); return uint8 (N, H, W)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"{name} must have shape (N, H, W) or (N, H, W, 1), got {images.shape}")
    if images.dtype == np.uint8:
        return images
    return data.rescale(np.clip(data.check_images(images, name), -1, 1))


def _hide_axes(axis):
    axis.set_xticks([])
    axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_visible(False)


def digit_rows(images, ncols=10, titles=None, title=None, size=1.0):
    """A grid of digits, ``ncols`` per row, with optional per-digit titles."""
    images = _as_uint8_digits(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(titles)} titles for {len(images)} images")
    nrows = int(np.ceil(len(images) / ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * (1.25 if titles is not None else 1)),
                                squeeze=False)
    for index, axis in enumerate(axes.flat):
        _hide_axes(axis)
        if index < len(images):
            axis.imshow(images[index], cmap=DIGIT_CMAP, vmin=0, vmax=255)
            if titles is not None:
                axis.set_title(str(titles[index]), fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def method_columns(columns, row_labels=None, title=None, size=1.1):
    """One row per digit, one column per method (e.g. corrupted / generated / original, the
    layout of the paper's Fig. 4 and 5). ``columns`` maps a column title to its images."""
    if not columns:
        raise ValueError("columns must map at least one title to images")
    arrays = {name: _as_uint8_digits(images, name) for name, images in columns.items()}
    counts = {len(images) for images in arrays.values()}
    if len(counts) != 1:
        raise ValueError(f"every column needs the same number of digits, got {sorted(counts)}")
    nrows = counts.pop()
    figure, axes = plt.subplots(nrows, len(arrays), figsize=(len(arrays) * size, nrows * size), squeeze=False)
    # A title wider than its column (about 9 characters to the inch) is wrapped at its spaces,
    # so neighbouring titles never run into each other.
    fits = max(4, int(9 * size))
    for column, (name, images) in enumerate(arrays.items()):
        axes[0, column].set_title(name if len(name) <= fits else name.replace(" ", "\n"), fontsize=9 if size >= 1 else 8)
        for row in range(nrows):
            axis = axes[row, column]
            _hide_axes(axis)
            axis.imshow(images[row], cmap=DIGIT_CMAP, vmin=0, vmax=255)
            if column == 0 and row_labels is not None:
                axis.set_ylabel(str(row_labels[row]), rotation=0, labelpad=12, va="center")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def value_histograms(before, after, labels=("uint8 pixels", "scaled pixels")):
    """Pixel value histograms before and after scaling, side by side."""
    figure, axes = plt.subplots(1, 2, figsize=(8, 2.6))
    for axis, values, label in zip(axes, (before, after), labels):
        values = np.asarray(values).ravel()
        axis.hist(values, bins=64, color="#4d4d4d", log=True)
        axis.set_title(f"{label}: [{values.min():g}, {values.max():g}]")
        axis.set_xlabel("value")
        axis.set_ylabel("pixels (log scale)")
    figure.tight_layout()
    return figure


def mask_statistics(masks, corners):
    """Where the holes fall: how often each pixel is missing, and how often each top-left corner is drawn."""
    masks = np.asarray(masks)
    corners = np.asarray(corners)
    if masks.ndim != 3 or masks.dtype != np.bool_:
        raise ValueError(f"masks must be boolean (N, H, W), got {masks.dtype} {masks.shape}")
    if corners.ndim != 2 or corners.shape != (len(masks), 2):
        raise ValueError(f"corners must have shape ({len(masks)}, 2), got {corners.shape}")
    figure, axes = plt.subplots(1, 2, figsize=(8, 3.3))
    shown = axes[0].imshow(masks.mean(axis=0), cmap="magma", vmin=0, vmax=1)
    axes[0].set_title("share of digits missing each pixel")
    figure.colorbar(shown, ax=axes[0], fraction=0.046)
    low, high = corners.min(), corners.max()
    counts = np.zeros((high - low + 1, high - low + 1))
    np.add.at(counts, (corners[:, 0] - low, corners[:, 1] - low), 1)
    shown = axes[1].imshow(counts / len(corners), cmap="viridis", vmin=0)
    axes[1].set_xticks(range(high - low + 1), range(low, high + 1))
    axes[1].set_yticks(range(high - low + 1), range(low, high + 1))
    axes[1].set_xlabel("corner column")
    axes[1].set_ylabel("corner row")
    axes[1].set_title("share of holes per top-left corner")
    figure.colorbar(shown, ax=axes[1], fraction=0.046)
    figure.tight_layout()
    return figure


def feature_maps(activations, channels=8, title=None, size=1.0):
    """The first ``channels`` feature maps of one image after each named layer, a row per layer."""
    if not activations:
        raise ValueError("activations must map layer names to arrays of shape (H, W, C)")
    figure, axes = plt.subplots(len(activations), channels, figsize=(channels * size, len(activations) * size * 1.1),
                                squeeze=False)
    for row, (name, maps) in enumerate(activations.items()):
        maps = np.asarray(maps)
        if maps.ndim != 3:
            raise ValueError(f"{name}: expected (H, W, C) feature maps of one image, got {maps.shape}")
        for column in range(channels):
            axis = axes[row, column]
            _hide_axes(axis)
            if column < maps.shape[-1]:
                axis.imshow(maps[..., column], cmap="viridis")
        axes[row, 0].set_ylabel(f"{name}\n{maps.shape[0]}x{maps.shape[1]}x{maps.shape[2]}", rotation=0,
                                ha="right", va="center", fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def probe_curves(runs, target=None, target_label=None, x="step", title=None):
    """Classifier accuracy on the probe digits during training, one line per run.
    ``runs`` maps a label to probe rows (dicts with ``x`` and ``accuracy``)."""
    if not runs:
        raise ValueError("runs must map at least one label to probe rows")
    if any(not isinstance(row, dict) or x not in row or "accuracy" not in row for rows in runs.values() for row in rows):
        raise ValueError(f"probe rows must be dicts with {x!r} and 'accuracy'")
    figure, axis = plt.subplots(figsize=(7, 3.2))
    # Runs that collapse the same way draw the same line: later ones are thinner and dashed, so
    # every run stays visible where they overlap.
    styles = [("-", 3.0), ("--", 2.0), (":", 1.5), ("-.", 1.2)]
    for index, (label, rows) in enumerate(runs.items()):
        style, width = styles[index % len(styles)]
        axis.plot([row[x] for row in rows], [100 * row["accuracy"] for row in rows], marker=".", linestyle=style,
                  linewidth=width, label=str(label))
    if target is not None:
        axis.axhline(100 * target, color="#999999", linestyle="--", linewidth=1, label=target_label)
    axis.set_xlabel({"step": "iteration", "seconds": "training time (s)"}.get(x, x))
    axis.set_ylabel("probe accuracy (%)")
    axis.set_ylim(0, 100)
    axis.legend(loc="center right")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def confusion(matrix, title=None):
    """A confusion matrix (rows: true digit, columns: predicted digit) as row-normalised shares."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square, got shape {matrix.shape}")
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axis = plt.subplots(figsize=(4.6, 4))
    shown = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, column), share in np.ndenumerate(shares):
        if share >= 0.01:
            axis.text(column, row, f"{100 * share:.0f}", ha="center", va="center", fontsize=7,
                      color="white" if share > 0.5 else "black")
    axis.set_xticks(range(len(matrix)))
    axis.set_yticks(range(len(matrix)))
    axis.set_xlabel("predicted digit")
    axis.set_ylabel("true digit")
    figure.colorbar(shown, ax=axis, fraction=0.046, label="share of the true digit's test images")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def grouped_bars(table, ylabel, title=None):
    """Bars per category (rows of ``table``, a dict of label -> {category: value}) per series."""
    if not table:
        raise ValueError("table must map at least one series to values")
    series = list(table)
    categories = list(table[series[0]])
    if any(list(table[name]) != categories for name in series):
        raise ValueError(f"every series must have the categories {categories}")
    width = 0.8 / len(series)
    figure, axis = plt.subplots(figsize=(8, 3))
    for index, name in enumerate(series):
        positions = np.arange(len(categories)) + (index - (len(series) - 1) / 2) * width
        axis.bar(positions, [table[name][c] for c in categories], width, label=name,
                 color=METHOD_COLOURS.get(name))
    axis.set_xticks(range(len(categories)), [str(c) for c in categories])
    axis.set_ylabel(ylabel)
    axis.legend(ncols=len(series), fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    if title:
        axis.set_title(title, pad=24)
    figure.tight_layout()
    return figure


def loss_curves(history, smoothed, series, band=None, mark_iteration=None, title=None,
                ylabel="binary cross-entropy", references=None):
    """Raw (faint) and smoothed (solid) curves of ``series`` (column names of ``history``, a dict
    of arrays), with an optional shaded ``band`` (low, high), a vertical marker, and horizontal
    ``references`` ({label: value}, e.g. an equilibrium value)."""
    if not series or any(name not in history or name not in smoothed for name in series):
        raise ValueError(f"series must name columns present in both tables, got {series}")
    figure, axis = plt.subplots(figsize=(8, 3.2))
    steps = np.asarray(history["step"])
    for name in series:
        line, = axis.plot(steps, history[name], alpha=0.25, linewidth=0.6)
        axis.plot(steps, smoothed[name], color=line.get_color(), linewidth=1.6, label=name)
    if band is not None:
        axis.axhspan(*band, color="#2ca02c", alpha=0.12, label=f"paper's range {band[0]}-{band[1]}")
    if mark_iteration is not None:
        axis.axvline(mark_iteration, color="#999999", linestyle="--", linewidth=1)
    for (label, value), style in zip((references or {}).items(), ("--", ":", "-.")):
        axis.axhline(value, color="#555555", linestyle=style, linewidth=1, label=label)
    axis.set_xlabel("iteration")
    axis.set_ylabel(ylabel)
    axis.legend(loc="upper right", ncols=2)
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def heatmaps(maps, title=None, cmap="magma", outline=None):
    """Several 2-D maps side by side on one colour scale; ``outline`` (a boolean map of the same
    shape, e.g. the pixels a hole can cover) is drawn as a white contour on each."""
    if not maps:
        raise ValueError("maps must map at least one title to a 2-D array")
    arrays = {name: np.asarray(values) for name, values in maps.items()}
    if any(values.ndim != 2 for values in arrays.values()):
        raise ValueError("every map must be 2-D")
    if outline is not None:
        outline = np.asarray(outline, bool)
        if any(values.shape != outline.shape for values in arrays.values()):
            raise ValueError(f"outline must have the maps' shape, got {outline.shape}")
    top = max(float(values.max()) for values in arrays.values())
    # constrained layout keeps the titles centred over their panels beside the colour bar
    figure, axes = plt.subplots(1, len(arrays), figsize=(3 * len(arrays) + 0.6, 3.2), squeeze=False,
                                layout="constrained")
    for axis, (name, values) in zip(axes[0], arrays.items()):
        shown = axis.imshow(values, cmap=cmap, vmin=0, vmax=top)
        if outline is not None:
            axis.contour(outline.astype(float), levels=[0.5], colors="white", linewidths=1.0)
        _hide_axes(axis)
        axis.set_title(name)
    figure.colorbar(shown, ax=list(axes[0]), fraction=0.03)
    if title:
        figure.suptitle(title)
    return figure


def accuracy_against_hole_size(curves, title=None):
    """Accuracy (%) against hole size, one line per method; ``curves`` maps a method to
    ``{size: (mean, sd)}`` with accuracies in [0, 1]."""
    if not curves:
        raise ValueError("curves must map at least one method to {size: (mean, sd)}")
    figure, axis = plt.subplots(figsize=(7, 3.6))
    for name, points in curves.items():
        sizes = sorted(points)
        means = [100 * points[s][0] for s in sizes]
        sds = [100 * points[s][1] for s in sizes]
        axis.errorbar(sizes, means, yerr=sds, marker="o", capsize=3, label=name, color=METHOD_COLOURS.get(name))
    axis.set_xlabel("centre hole size (pixels per side)")
    axis.set_ylabel("classifier accuracy (%)")
    axis.set_xticks(sorted({s for points in curves.values() for s in points}))
    axis.legend(loc="lower left")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def render_digit(character, size=28, font_size=58, thickness=3.0):
    """Render a character with matplotlib's default font into a uint8 (size, size) image, white
    on black and centred like an MNIST digit: a digit from outside MNIST to try a model on."""
    if not isinstance(character, str) or len(character) != 1:
        raise ValueError(f"character must be a single character, got {character!r}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib import patheffects

    figure = Figure(figsize=(1, 1), dpi=size)
    canvas = FigureCanvasAgg(figure)
    figure.patch.set_facecolor("black")
    text = figure.text(0.5, 0.5, character, color="white", fontsize=font_size, ha="center", va="center")
    text.set_path_effects([patheffects.withStroke(linewidth=thickness, foreground="white")])
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., 0]
    return np.ascontiguousarray(pixels[:size, :size]).astype(np.uint8)


def save_gif(animation, path, fps=4, dpi=72):
    """Write a `matplotlib.animation.Animation` to ``path`` as an animated GIF, atomically: for
    pages that cannot run code, such as the book's intro. Returns the path."""
    from pathlib import Path

    from matplotlib.animation import PillowWriter

    from lib import artifacts, checks

    if not hasattr(animation, "save") or not hasattr(animation, "new_frame_seq"):
        raise ValueError(f"animation must be a matplotlib animation, got {type(animation).__name__}")
    if Path(path).suffix != ".gif":
        raise ValueError(f"path must end in .gif, got {str(path)!r}")
    with artifacts.atomic_path(path) as temporary:
        animation.save(temporary, writer=PillowWriter(fps=checks.count(fps, "fps", minimum=1)),
                       dpi=checks.count(dpi, "dpi", minimum=1))
    return Path(path)

