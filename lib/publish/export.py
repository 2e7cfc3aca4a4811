"""The shipped models as ONNX files, for the book's in-browser demo ("Try it").

Each inpainter is exported whole, as `lib.inpainting.inpaint` computes it: the corrupted digit
and its mask in, the completed digit out (the mask channel, compositing and clipping inside the
graph), so the page has no inpainting logic of its own. The classifier is exported as it is, and
the blind-correction mask head (`lib.mask_head`) with its sigmoid, its threshold in the record.
Inputs have static shapes (one 28x28 digit) and float32 values in [-1, 1].

    python -m lib.publish.export _offline/demo/models

writes the models, ``models.json`` (what each file is, its own sha256, which the page checks
before it runs the file, and the sha256 of the weights it came from) and ``digits.json`` (test digits for the page to start from). It runs when the book is
built (`scripts/build_book.sh`), so the files never drift from the weights.
"""
from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import keras
import numpy as np
import tensorflow as tf

from lib import artifacts, checks, classifiers, data, mask_head, runs, shipped
from lib.config import GANConfig
from lib.inpainting import load_inpainter
from lib.models import complete, generator_inputs

MODELS_RECORD = "models.json"
DIGITS_RECORD = "digits.json"
DEMO_DIGITS = 24  # the strip of test digits the page starts from


def inpainter_model(generator, config: GANConfig, name="inpainter"):
    """``generator`` as one Keras model of one digit: inputs ``corrupted`` (the hole painted
    black) and ``mask`` (1 = missing), both (1, 28, 28, 1); output the completed digit, exactly
    what `lib.inpainting.inpaint` returns."""
    checks.instance(config, GANConfig)
    size = config.image_size
    corrupted = keras.Input((size, size, 1), batch_size=1, name="corrupted")
    mask = keras.Input((size, size, 1), batch_size=1, name="mask")
    generated = generator(generator_inputs(config, corrupted, mask))
    filled = keras.ops.clip(complete(config, generated, corrupted, mask), -1.0, 1.0)
    return keras.Model([corrupted, mask], filled, name=name)


def classifier_model(classifier):
    """The classifier with a static one-digit input, (1, 28, 28, 1) -> ten probabilities."""
    digit = keras.Input(classifier.input_shape[1:], batch_size=1, name="digit")
    return keras.Model(digit, classifier(digit), name="classifier")


def mask_head_model(head):
    """The mask head with a static one-digit input, (1, 28, 28, 1) -> each pixel's probability
    of being damaged (the sigmoid inside, so the page only compares it with the threshold)."""
    digit = keras.Input(head.input_shape[1:], batch_size=1, name="digit")
    return keras.Model(digit, keras.ops.sigmoid(head(digit)), name="mask_head")


def export_onnx(model, path):
    """``model`` as an ONNX file at ``path``, written atomically (tf2onnx through Keras' export)."""
    checks.instance(model, keras.Model, "model")
    path = Path(path)
    if path.suffix != ".onnx":
        raise ValueError(f"an ONNX file must end in .onnx, got {path}")
    # Named specs name the ONNX inputs after the Keras ones ("corrupted", "mask", "digit");
    # unnamed, tf2onnx calls them args_0_0, args_0_1.
    signature = [tf.TensorSpec(tuple(tensor.shape), tf.float32, name=tensor.name) for tensor in model.inputs]
    zeros = [np.zeros(spec.shape, np.float32) for spec in signature]
    model(zeros if len(zeros) > 1 else zeros[0])  # Keras exports only models that were called
    with artifacts.atomic_path(path) as temporary, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # tf2onnx probes numpy for np.object
        # The model's call takes one argument: a single tensor, or the list of its inputs.
        model.export(str(temporary), format="onnx", verbose=False,
                     input_signature=[signature] if len(signature) > 1 else signature)
    return path


def onnx_names(path):
    """The input names of an ONNX file, in the order of the model's inputs, and its output's."""
    import onnx

    graph = onnx.load(str(path)).graph
    return {"input_names": [node.name for node in graph.input], "output_name": graph.output[0].name}


def shipped_sources():
    """The weights files each exported model comes from, by its file name."""
    sources = {f"{name}_inpainter.onnx": shipped.folder(name) / runs.GENERATOR_WEIGHTS for name in shipped.INPAINTERS}
    sources["classifier.onnx"] = classifiers.classifier_weights(classifiers.SHIPPED_CLASSIFIER_SEED)
    sources["mask_head.onnx"] = shipped.folder(shipped.MASK_HEAD) / mask_head.WEIGHTS
    return sources


def export_shipped(folder):
    """Every shipped inpainter and the shipped classifier as ONNX files in ``folder``, with
    ``models.json`` and ``digits.json``; returns the record."""
    folder = Path(folder)
    record = {"inputs": {"corrupted": "(1, 28, 28, 1) float32 in [-1, 1], missing pixels at -1",
                         "mask": "(1, 28, 28, 1) float32, 1 = missing", "digit": "(1, 28, 28, 1) float32"},
              "inpainters": {}, "classifier": None}
    sources = shipped_sources()
    for name in shipped.INPAINTERS:
        generator, config = load_inpainter(name)
        file = f"{name}_inpainter.onnx"
        path = export_onnx(inpainter_model(generator, config, name=f"{name}_inpainter"), folder / file)
        record["inpainters"][name] = {"file": file, "variant": config.name, "epochs": config.epochs,
                                      "weights_sha256": artifacts.file_sha256(sources[file]),
                                      "onnx_sha256": artifacts.file_sha256(path), **onnx_names(path)}
    path = export_onnx(classifier_model(classifiers.load_classifier()), folder / "classifier.onnx")
    record["classifier"] = {"file": "classifier.onnx", "weights_sha256": artifacts.file_sha256(sources["classifier.onnx"]),
                            "onnx_sha256": artifacts.file_sha256(path), **onnx_names(path)}
    head, threshold = mask_head.load_mask_head()
    path = export_onnx(mask_head_model(head), folder / "mask_head.onnx")
    record["mask_head"] = {"file": "mask_head.onnx", "threshold": threshold,
                           "weights_sha256": artifacts.file_sha256(sources["mask_head.onnx"]),
                           "onnx_sha256": artifacts.file_sha256(path), **onnx_names(path)}
    artifacts.save_json(folder / MODELS_RECORD, record)
    (_, _), (x_test, y_test) = data.load_mnist()
    artifacts.save_json(folder / DIGITS_RECORD, {"labels": y_test[:DEMO_DIGITS].tolist(),
                                                 "pixels": x_test[:DEMO_DIGITS].reshape(DEMO_DIGITS, -1).tolist()})
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="where the ONNX files go, e.g. _offline/demo/models")
    args = parser.parse_args(argv)
    record = export_shipped(args.folder)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
