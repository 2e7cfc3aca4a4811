"""What limits the fills (appendix B): classifiers of the paper's recipe trained on corrupted
digits, no inpainting, at each hole: how much of a digit's identity survives the hole, the
accuracy an inpainter can hope to reach.
"""
from __future__ import annotations

import time

from lib import artifacts, checks, classifiers, commands, data, holes, records, runs
from lib.commands import Option
from lib.config import CLASSIFIER, budget

LONG_EPOCHS = 10  # a longer-trained classifier for a tighter estimate than the paper's 3 epochs


def record_path(epochs=CLASSIFIER.epochs, root=()):
    """Classifiers trained on corrupted digits: the evaluation classifiers' budget has the plain
    name, longer-trained classifiers one that says their epochs."""
    epochs = checks.count(epochs, "epochs", minimum=1)
    name = "corrupted_digit_accuracy" + ("" if epochs == CLASSIFIER.epochs else f"-{epochs}ep")
    return runs.path(*root, "ceiling", name + ".json")


def run_ceiling(holes_to_score=None, seed=0, epochs=None, root=()):
    """`lib.classifiers.corrupted_digit_accuracy` for each hole (default: the paper's and every
    centre size of the hole-size study), recorded in `record_path` of the budget asked for. Holes
    measured before with the same recipe stay in the record."""
    if holes_to_score is not None and not len(holes_to_score):
        raise ValueError("run_ceiling needs at least one hole")
    holes_to_score = [holes.check(hole) for hole in holes_to_score or (holes.PAPER_HOLE, *holes.HOLE_SIZES)]
    path = record_path(CLASSIFIER.epochs if epochs is None else epochs, root)
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    plan = budget()
    epochs = classifiers.classifier_epochs(plan.classifier_epochs if epochs is None else epochs, plan)
    x_train, y_train = x_train[: plan.train_images], y_train[: plan.train_images]
    results = {}
    for hole in holes_to_score:
        started = time.perf_counter()
        accuracy = classifiers.corrupted_digit_accuracy(
            x_train, y_train, holes.masks(len(x_train), hole, train=True),
            x_test, y_test, holes.masks(len(x_test), hole), seed=seed, epochs=epochs)
        results[str(hole)] = {"accuracy": accuracy, "wall_seconds": round(time.perf_counter() - started, 1)}
        print(f"classifier trained {epochs} epochs on corrupted digits, {holes.label(hole)}: {accuracy:.4f}",
              flush=True)
    record = {"results": results, "seed": seed, "epochs": epochs, "config": CLASSIFIER.to_dict(),
              "machine": records.machine_description()}
    if path.is_file():
        earlier = artifacts.load_json(path)
        recipe = artifacts.as_json({key: record[key] for key in ("seed", "epochs", "config")})
        if all(earlier.get(key) == value for key, value in recipe.items()):
            record["results"] = {**earlier["results"], **results}
    artifacts.save_record(path, record)
    return results


def ceiling_table(by_hole, method="recommended", budgets=(CLASSIFIER.epochs, LONG_EPOCHS)):
    """Appendix B's "what limits it" table, as rows by hole (`lib.holes.label`): ``method``'s
    accuracy (percent, shipped classifier) in ``by_hole`` (the hole-size study's results) next to
    the committed ceiling records, one column per classifier budget in ``budgets``. The first row,
    no hole, holds the shipped classifier's clean accuracy (a composited inpainting of nothing
    is the digit itself) and each budget's classifier on clean digits."""
    measured = {epochs: artifacts.load_fields(record_path(epochs), results=checks.mapping)[0] for epochs in budgets}
    shipped = classifiers.clean_accuracy(classifiers.SHIPPED_CLASSIFIER_SEED)
    rows = {}
    for hole in (holes.NO_HOLE, holes.PAPER_HOLE, *holes.HOLE_SIZES):
        label = holes.label(hole)
        if hole != holes.NO_HOLE and (label not in by_hole or method not in by_hole[label]):
            raise ValueError(f"by_hole has no {method!r} result for the {label} hole")
        accuracy = shipped if hole == holes.NO_HOLE else by_hole[label][method]["accuracy"]
        row = {f"{method}, shipped classifier %": round(100 * accuracy, 1)}
        for epochs, results in measured.items():
            value = results.get(str(hole), {}).get("accuracy")
            row[f"trained on corrupted digits, {epochs} epochs %"] = None if value is None else round(100 * value, 1)
        rows[label] = row
    return rows


COMMANDS = (
    commands.Command("ceiling", run_ceiling, "classifiers trained on corrupted digits, at each hole", (
        Option("--holes", dict(dest="holes_to_score", type=commands.argument(holes.parse), nargs="+", default=None, metavar="HOLE", help=(
            "centre sizes, 'paper' and/or 'none' (default: the paper's hole and every size of the hole-size study)"))),
        commands.seed(), commands.epochs(CLASSIFIER.epochs, "the classifiers' epochs"))),
)
