"""The one checkpoint protocol of every training in the book (the GANs, the mask head).

A checkpoint is ONE file, ``checkpoint.npz``, written atomically after each epoch: every variable
of the networks and their optimizers by a stable path, the run's state (JSON: what identifies the
run, how far it got) and any extra arrays (the recorders' rows). A kill at any moment leaves the
last good one; a run resumes from it only if it was made by the same run (`load` compares the
identifying fields). A finished run is committed (`commit`): the manifest last, then the
checkpoint goes, so a kill in between leaves a run that opens.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lib import artifacts

FILE = "checkpoint.npz"
VARIABLE, EXTRA = "var:", "rec:"


def path(folder) -> Path:
    return Path(folder) / FILE


def exists(folder) -> bool:
    return path(folder).is_file()


def _layer_variables(layer, prefix):
    inner = getattr(layer, "layers", None)
    if inner:  # a nested model: its layers by name
        for sublayer in inner:
            yield from _layer_variables(sublayer, f"{prefix}/{layer.name}")
        return
    for variable in layer.variables:
        yield f"{prefix}/{layer.name}/{variable.name}", variable


def variables_by_path(models, optimizers):
    """Every variable of ``models`` and ``optimizers`` (dicts by role) by a stable path: role,
    layer and variable names for the networks (Keras numbers seed generators by creation order,
    so their own paths depend on what else the process built), role and variable path within the
    optimizer for the optimizers (whose own names Keras numbers the same way)."""
    paths = {}
    for role, model in models.items():
        for layer in model.layers:
            paths.update(_layer_variables(layer, role))
    for role, optimizer in optimizers.items():
        prefix = optimizer.name + "/"
        paths.update((f"{role}/{variable.path.removeprefix(prefix)}", variable) for variable in optimizer.variables)
    expected = sum(len(model.variables) for model in models.values()) + sum(
        len(optimizer.variables) for optimizer in optimizers.values())
    if len(paths) != expected:
        raise ValueError(f"variable paths are not unique ({len(paths)} paths for {expected} variables)")
    return paths


def save(folder, state, models, optimizers, extra=None):
    """Every variable, the run ``state`` (a JSON object) and the ``extra`` arrays in one file."""
    arrays = {VARIABLE + name: np.asarray(variable) for name, variable in variables_by_path(models, optimizers).items()}
    arrays.update({EXTRA + key: value for key, value in (extra or {}).items()})
    artifacts.save_arrays(path(folder), state=np.array(json.dumps(state)), **arrays)


def load(folder, models, optimizers, expected, what=None):
    """Load the checkpoint in ``folder`` into ``models`` and ``optimizers`` if it was made by the
    same run (its state agrees with ``expected`` on every key of it; ``what`` names each key in
    the message); returns ``(state, extra arrays)``."""
    stored = artifacts.load_arrays(path(folder), in_progress=True)
    state = json.loads(str(stored["state"]))
    for key in expected:
        if state.get(key) != expected[key]:
            raise ValueError(f"{path(folder)} was made with another {(what or {}).get(key, key)}: delete its folder to "
                             "start this run afresh")
    variables = variables_by_path(models, optimizers)
    saved = {key[len(VARIABLE):] for key in stored if key.startswith(VARIABLE)}
    if saved != set(variables):
        missing, unexpected = sorted(set(variables) - saved), sorted(saved - set(variables))
        raise ValueError(f"{path(folder)} does not match this model (missing {missing[:3]}, unexpected {unexpected[:3]}): "
                         "delete its folder to start this run afresh")
    for name, variable in variables.items():
        value = stored[VARIABLE + name]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{path(folder)} does not match this model ({name}: {value.shape})")
        variable.assign(value)
    return state, {key[len(EXTRA):]: value for key, value in stored.items() if key.startswith(EXTRA)}


def commit(folder):
    """Mark a run finished: the manifest last, then the checkpoint goes. A kill before the
    manifest leaves the checkpoint to resume from; a kill after it, a run that opens."""
    artifacts.write_manifest(folder, exclude=(FILE,))
    path(folder).unlink(missing_ok=True)
