"""Appendix D's figure and table: probe accuracy against training time, recipe by recipe, and
every scored recipe of the time-to-quality study (`lib.studies.speed`) in one table.

Drawn in the book's style (`lib.plotting`), from plain probe rows.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

from lib import plotting, runs, training  # noqa: F401  (plotting: the book's figure style)
from lib.studies import speed


def time_to_quality(curves, budget_seconds=None, title=None):
    """Probe accuracy against training time, one panel per hole, one line per recipe:
    ``curves`` maps a panel title to ``{recipe: probe rows}`` (dicts with ``seconds`` and
    ``accuracy``). The time axis is logarithmic, so a 15-minute run and a 90-minute one both
    read; ``budget_seconds`` draws the time budget as a vertical line."""
    if not curves or any(not recipes for recipes in curves.values()):
        raise ValueError("curves must map at least one panel to at least one recipe's probe rows")
    for recipes in curves.values():
        for rows in recipes.values():
            if not rows or any(not isinstance(row, dict) or not {"seconds", "accuracy"} <= set(row) for row in rows):
                raise ValueError("probe rows must be a non-empty list of dicts with 'seconds' and 'accuracy'")
    # A recipe keeps its colour in every panel, including panels it was not probed in.
    names = list(dict.fromkeys(name for recipes in curves.values() for name in recipes))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = {name: cycle[i % len(cycle)] for i, name in enumerate(names)}
    figure, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.3), squeeze=False)
    for axis, (panel, recipes) in zip(axes[0], curves.items()):
        for label, rows in recipes.items():
            axis.plot([max(row["seconds"], 1.0) for row in rows], [100 * row["accuracy"] for row in rows],
                      marker=".", markersize=3, linewidth=1.5, label=str(label), color=colours[label])
        if budget_seconds is not None:
            axis.axvline(budget_seconds, color="#999999", linestyle="--", linewidth=1, label="the 15-minute budget")
        axis.set_xscale("log")
        axis.set_xlabel("training time (s, log scale)")
        axis.set_ylabel("probe accuracy (%)")
        axis.set_title(panel)
        axis.legend(loc="lower right")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------- its tables and curves

TABLE_HOLES = (("paper's hole", "paper"), ("12x12", "c12"), ("14x14", "c14"), ("16x16", "c16"))


def recipe_table(record):
    """One row per scored recipe: its seeds (a recipe scored over several: the means), minutes of
    training, iterations, minutes to the quality threshold on the probe, accuracy (mean of the
    classifiers, %) and the detector's accuracy (%) on every hole."""
    rows = []
    for name, entry in record["recipes"].items():
        to_quality = entry["seconds_to_quality"]
        row = {"recipe": name, "seeds": len(entry.get("seeds", {})) or 1, "minutes": round(entry["seconds"] / 60, 1),
               "timed alone": entry["timed_alone"],
               "iterations": entry["iterations"],
               f"minutes to {100 * record['quality_threshold']:.0f} %": None if to_quality is None
               else round(to_quality / 60, 1)}
        row.update({f"accuracy {label} %": round(100 * entry[key], 2) for label, key in TABLE_HOLES})
        row.update({f"detector {label} %": round(100 * entry["detector"][key], 1) for label, key in TABLE_HOLES})
        rows.append(row)
    return rows


def probe_rows(name, seed=0):
    """``{probe key: rows}`` of a recipe's committed run (the reference: chapter 6's run, which
    probed the paper's hole only)."""
    run = speed.reference_run() if name == speed.REFERENCE else runs.open(speed.run_folder(name, seed))
    return {key: run.record[key] for key in map(training.probe_key, speed.PROBE_HOLES) if key in run.record}


def curves(names, seed=0):
    """`time_to_quality`'s panels for recipes ``names``: the probes on the paper's
    hole and on 14x14 holes, each recipe in the panels it was probed in."""
    panels = {"paper's hole (8x8 jittered)": training.probe_key("paper"), "14x14 centre hole": training.probe_key(14)}
    probes = {name: probe_rows(name, seed) for name in names}
    return {panel: {name: rows[key] for name, rows in probes.items() if key in rows} for panel, key in panels.items()}
