"""The figures of the collapse study (chapter 5): the mechanism over the first iterations of a
collapsed and a healthy run, the collapse rate of every recipe with its interval, and the film of
the first iterations (and the intro's GIF of it)."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from lib import commands, plotting
from lib.studies import collapse

BLOCK_COLOURS = {"encoder1": "#c6dbef", "encoder2": "#6baed6", "encoder3": "#2171b5", "decoder1": "#fdae6b",
                 "decoder2": "#e6550d", "decoder3": "#a63603"}
SCORE_COLOURS = {"real": "#2ca02c", "fake_inference": "#d62728", "fake_train": "#9467bd"}
SCORE_LABELS = {"real": "D(real digit)", "fake_inference": "D(fill), inference mode (what D trains on)",
                "fake_train": "D(fill), training mode (what G learns through)"}


def _column(rows, key):
    return np.array([row[key] for row in rows], dtype=float)


def _check_runs(runs):
    if not runs:
        raise ValueError("runs must map at least one label to (diagnostics, probe) rows")
    for label, (diagnostics, probe) in runs.items():
        if not diagnostics or not probe:
            raise ValueError(f"run {label!r} needs diagnostics and probe rows (was it trained with diagnostics?)")
        missing = {"step", "grad_norm", "saturated_train", "saturated_inference", "d_real_mean"} - set(diagnostics[0])
        if missing:
            raise ValueError(f"run {label!r}: diagnostics rows lack {sorted(missing)}")


def mechanism(runs, until_step=1000):
    """One column per run (``runs`` maps a label to ``(diagnostics, probe)`` rows, as
    `lib.runs.Run` gives them), four rows: the generator's gradient norm per block (log scale),
    the share of its output pixels in tanh's saturated range, the discriminator's scores (mean
    and 10th-90th percentile band) and the probe."""
    _check_runs(runs)
    figure, axes = plt.subplots(4, len(runs), figsize=(4.6 * len(runs), 10), sharex=True, sharey="row", squeeze=False)
    for column, (label, (diagnostics, probe)) in enumerate(runs.items()):
        rows = [row for row in diagnostics if row["step"] <= until_step]
        steps = _column(rows, "step")
        gradient, saturation, scores, probe_axis = axes[:, column]
        for block, colour in BLOCK_COLOURS.items():
            if f"grad_norm_{block}" in rows[0]:
                gradient.plot(steps, _column(rows, f"grad_norm_{block}"), color=colour, label=block)
        gradient.set_yscale("log")
        gradient.set_title(label)
        for mode, style in (("train", "-"), ("inference", "--")):
            saturation.plot(steps, 100 * _column(rows, f"saturated_{mode}"), linestyle=style, color="#444444",
                            label=f"{mode}-mode pass")
        saturation.set_ylim(-3, 103)
        for name, colour in SCORE_COLOURS.items():
            scores.plot(steps, _column(rows, f"d_{name}_mean"), color=colour, label=SCORE_LABELS[name])
            scores.fill_between(steps, _column(rows, f"d_{name}_p10"), _column(rows, f"d_{name}_p90"), color=colour,
                                alpha=0.15, linewidth=0)
        scores.set_ylim(-0.03, 1.03)
        early = [row for row in probe if row["step"] <= until_step]
        probe_axis.plot([row["step"] for row in early], [100 * row["accuracy"] for row in early], marker=".",
                        color="#1f77b4", label="accuracy")
        probe_axis.plot([row["step"] for row in early], [100 * row["top_class_share"] for row in early], marker=".",
                        color="#ff7f0e", label="top-class share")
        probe_axis.set_ylim(-3, 103)
        probe_axis.set_xlabel("iteration")
    labels = ("gradient norm\nof the adversarial loss", "output pixels with\n|tanh| > 0.99 (%)",
              "discriminator output", "probe (%)")
    for axis, text in zip(axes[:, 0], labels):
        axis.set_ylabel(text)
    for axis in axes[:, -1]:
        axis.legend(loc="best", fontsize=7)
    figure.tight_layout()
    return figure


def collapse_rates(rows, title=None):
    """The collapse rate of every recipe with its 95 % Wilson interval (`lib.studies.collapse.collapse_rates`
    rows), the paper's recipe first, each labelled with its count of collapsed runs."""
    if not rows or any(not {"recipe", "runs", "collapsed", "collapse rate", "95 % low", "95 % high"} <= set(row)
                       for row in rows):
        raise ValueError("rows must be lib.studies.collapse.collapse_rates rows, at least one")
    figure, axis = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    positions = np.arange(len(rows))[::-1]
    rates = np.array([100 * row["collapse rate"] for row in rows])
    low = rates - np.array([100 * row["95 % low"] for row in rows])
    high = np.array([100 * row["95 % high"] for row in rows]) - rates
    colours = ["#d62728" if row["recipe"] == "paper" else "#1f77b4" for row in rows]
    axis.errorbar(rates, positions, xerr=[low, high], fmt="none", ecolor="#999999", capsize=3)
    axis.scatter(rates, positions, color=colours, zorder=3)
    for position, rate, row in zip(positions, rates, rows):
        axis.annotate(f"{row['collapsed']}/{row['runs']}", (rate, position), textcoords="offset points",
                      xytext=(0, 6), ha="center", fontsize=7)
    axis.set_yticks(positions, [row["recipe"] for row in rows])
    axis.set_xlim(-3, 103)
    axis.set_xlabel("runs collapsed (%), with 95 % Wilson intervals")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def _check_films(films):
    if not films:
        raise ValueError("films must map at least one label to a film (lib.runs.Run.film())")
    for label, film in films.items():
        missing = {"step", "frames", "d_real", "d_fake"} - set(film)
        if missing:
            raise ValueError(f"film {label!r} lacks {sorted(missing)}")
        if len(film["step"]) != len(film["frames"]) or len(film["step"]) == 0:
            raise ValueError(f"film {label!r} needs one frame per recorded step")


def film_animation(films, digits=10, columns=5, interval=250):
    """The generator's fills of fixed digits over the first iterations, one panel grid per run
    (``films`` maps a label to `lib.runs.Run.film()`), as a `matplotlib.animation.FuncAnimation`;
    in a notebook, ``HTML(animation.to_jshtml())`` shows it with play controls."""
    from matplotlib import animation

    _check_films(films)
    steps = [np.asarray(film["step"]) for film in films.values()]
    if any(len(s) != len(steps[0]) or (s != steps[0]).any() for s in steps):
        raise ValueError("the films must be recorded at the same steps")
    rows = -(-digits // columns)
    figure, axes = plt.subplots(rows, columns * len(films), figsize=(1.0 * columns * len(films), 1.05 * rows + 0.5),
                                squeeze=False)
    images = []
    for run, (label, film) in enumerate(films.items()):
        for index in range(rows * columns):
            axis = axes[index // columns, run * columns + index % columns]
            axis.set_xticks([]), axis.set_yticks([])
            if index < digits:
                images.append(axis.imshow(film["frames"][0][index], cmap=plotting.DIGIT_CMAP, vmin=0, vmax=255))
            else:
                axis.axis("off")
        axes[0, run * columns + columns // 2].set_title(label, fontsize=9)
    caption = figure.suptitle("")

    def draw(frame):
        for run, film in enumerate(films.values()):
            for index in range(digits):
                images[run * digits + index].set_data(film["frames"][frame][index])
        caption.set_text(f"iteration {int(steps[0][frame])}")
        return images

    draw(0)
    movie = animation.FuncAnimation(figure, draw, frames=len(steps[0]), interval=interval, blit=False)
    plt.close(figure)  # the animation is the output, not the still figure
    return movie


def score_histograms(films, steps, bins=20):
    """Histograms of the discriminator's scores on real digits and on the generator's fills,
    at the given iterations (columns), one row per run (``films`` maps a label to a film)."""
    _check_films(films)
    figure, axes = plt.subplots(len(films), len(steps), figsize=(2.1 * len(steps), 1.9 * len(films)),
                                sharex=True, squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    for row, (label, film) in enumerate(films.items()):
        recorded = list(np.asarray(film["step"]))
        for column, step in enumerate(steps):
            if step not in recorded:
                raise ValueError(f"film {label!r} has no frame at iteration {step}")
            axis, frame = axes[row, column], recorded.index(step)
            axis.hist(film["d_real"][frame], bins=edges, color=SCORE_COLOURS["real"], alpha=0.6, label="real digits")
            axis.hist(film["d_fake"][frame], bins=edges, color=SCORE_COLOURS["fake_inference"], alpha=0.6,
                      label="fills (inference mode)")
            axis.set_yticks([])
            axis.set_title(f"{label}, iteration {step}" if column == 0 else f"iteration {step}", fontsize=8)
    for axis in axes[-1]:
        axis.set_xlabel("D's score")
    axes[0, 0].legend(loc="upper center", fontsize=7)
    figure.tight_layout()
    return figure


FILM_GIF = Path(__file__).resolve().parents[2] / "_static" / "training_film.gif"  # the intro opens with it


def write_film_gif(seeds=(0, 3), path=None, root=()):
    """Chapter 5's animation of the filmed runs under ``root`` (one digit of each class per run,
    labelled by how its study run ends) as a GIF at ``path``: by default the intro's, which cannot
    run code, for the committed runs, and ``film/training_film.gif`` under any other root."""
    path = path or (collapse.film_folder(0, root).parent / "training_film.gif" if root else FILM_GIF)
    films = {}
    for seed in seeds:
        film = collapse.film(seed, root)
        if not film:
            raise ValueError(f"no film for seed {seed}: run `python -m lib.cli film --seeds {seed}` first")
        ending = collapse.run_outcome("paper", seed, root)
        every_other = {key: np.asarray(value)[::2] for key, value in film.items()}  # every 40 iterations: a lighter file
        films[f"seed {seed}: {'collapses' if ending['collapsed'] else 'trains'}"] = {
            **every_other, "frames": every_other["frames"][:, ::2]}  # one digit of each class
    return plotting.save_gif(film_animation(films), path, fps=3)


COMMANDS = (
    commands.Command("film-gif", write_film_gif, "the intro's GIF of chapter 5's animation (_static/training_film.gif)",
                     (commands.seeds((0, 3), what="the filmed runs"),), report=str),
)
