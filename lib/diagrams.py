"""Diagrams of the networks and of the GAN's data flow (the paper's Fig. 2, drawn from the code).

`network_layout` reads a Keras model's layers into the boxes of its diagram (pure, tested
without drawing); `network_diagram` draws them; `gan_data_flow` draws one training iteration:
what each network sees and which loss updates which.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# Layers that open a box of the diagram; the others (normalisation, activations, dropout) are
# written into the box they follow, as the paper's prose does ("with batch normalisation and ReLU").
BOX_KINDS = {"Conv2D": "conv", "AveragePooling2D": "pool", "MaxPooling2D": "pool", "UpSampling2D": "upsample",
             "Flatten": "flatten", "Dense": "dense", "InputLayer": "input", "ChannelwiseDense": "dense"}
# An `Add` closes a residual branch (the book's global-context block): the box it follows is added
# to the branch's input, which a chain diagram can say in words.
ANNOTATIONS = {"BatchNormalization": "BN", "ReLU": "ReLU", "LeakyReLU": "LeakyReLU", "Dropout": "dropout",
               "Activation": None, "GaussianNoise": "noise", "Add": "residual add"}
COLOURS = {"input": "#e0e0e0", "conv": "#9ecae1", "pool": "#fdd0a2", "upsample": "#c7e9c0", "flatten": "#e0e0e0",
           "dense": "#dadaeb"}


def _describe(layer):
    config = layer.get_config()
    kind = type(layer).__name__
    if kind == "Conv2D":
        kernel = "x".join(str(k) for k in config["kernel_size"])
        stride = config["strides"][0]
        text = f"conv {kernel}, {config['filters']}" + (f", stride {stride}" if stride != 1 else "")
        return text + ("" if config.get("activation") in (None, "linear") else f", {config['activation']}")
    if kind == "ChannelwiseDense":
        return "channel-wise dense"
    if kind == "Dense":
        return f"dense {config['units']}" + ("" if config.get("activation") in (None, "linear") else f", {config['activation']}")
    if kind in ("AveragePooling2D", "MaxPooling2D"):
        return ("average" if kind.startswith("Average") else "max") + f" pool, {config['pool_size'][0]}x{config['pool_size'][1]}"
    if kind == "UpSampling2D":
        return f"upsample, {config['size'][0]}x{config['size'][1]}"
    return kind.lower().replace("inputlayer", "input")


def _shape(layer):
    shape = tuple(layer.output.shape[1:])
    return "x".join(str(s) for s in shape)


def network_layout(model) -> list[dict]:
    """The boxes of ``model``'s diagram, in order: ``{"kind", "text", "shape", "extras"}``. A
    model with a layer the diagram cannot draw (a branch, a custom layer) is refused."""
    if not hasattr(model, "layers") or not hasattr(model, "inputs"):
        raise ValueError(f"network_layout takes a Keras model, got {type(model).__name__}")
    boxes = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in BOX_KINDS:
            boxes.append({"kind": BOX_KINDS[kind], "text": _describe(layer), "shape": _shape(layer), "extras": []})
        elif kind in ANNOTATIONS and boxes:
            label = ANNOTATIONS[kind] or layer.get_config().get("activation", "")
            boxes[-1]["extras"].append(label)
            boxes[-1]["shape"] = _shape(layer)
        else:
            raise ValueError(f"the diagram draws chains of standard layers; {layer.name} ({kind}) is not one")
    return boxes


def network_diagram(model, title=None, width=1.15):
    """A left-to-right diagram of a chain-shaped model: one box per convolution, pooling,
    upsampling or dense layer, its normalisation and activation inside, its output shape below.
    A box's height follows the spatial size of its output, so the encoder visibly narrows."""
    boxes = network_layout(model)
    sizes = [int(box["shape"].split("x")[0]) if box["shape"].count("x") == 2 else 4 for box in boxes]
    figure, axis = plt.subplots(figsize=(width * len(boxes) + 0.4, 2.6))
    largest = max(sizes)
    for index, (box, size) in enumerate(zip(boxes, sizes)):
        height = 0.35 + 1.25 * size / largest
        axis.add_patch(FancyBboxPatch((index * width, -height / 2), width * 0.78, height, boxstyle="round,pad=0.02",
                                      facecolor=COLOURS[box["kind"]], edgecolor="#555555", linewidth=0.8))
        label = box["text"].replace(", ", ",\n", 1) + ("\n+ " + " + ".join(box["extras"]) if box["extras"] else "")
        axis.text(index * width + width * 0.39, 0, label, ha="center", va="center", fontsize=6.5)
        axis.text(index * width + width * 0.39, -0.95, box["shape"], ha="center", va="top", fontsize=6.5, color="#333333")
        if index:
            axis.annotate("", xy=(index * width, 0), xytext=((index - 1) * width + width * 0.78, 0),
                          arrowprops={"arrowstyle": "->", "color": "#555555", "linewidth": 0.8})
    axis.set_xlim(-0.1, len(boxes) * width)
    axis.set_ylim(-1.15, 1.0)
    axis.axis("off")
    axis.set_title(title or model.name)
    return figure


# The iteration of the paper's recipe, as boxes (x, y) and the arrows between them.
FLOW_BOXES = {
    "digit": ((0.0, 2.0), "real digit $y$", "#e0e0e0"),
    "corrupted": ((0.0, 0.0), "corrupted digit $x$\n(hole set to $-1$)", "#e0e0e0"),
    "g_predict": ((2.3, 0.7), "generator $G$\ninference mode\n(generator.predict)", "#9ecae1"),
    "g_train": ((2.3, -1.0), "generator $G$\ntraining mode\n(batch statistics)", "#9ecae1"),
    "d_step": ((4.9, 1.4), "discriminator $D$\nupdated: targets\n0.9 (real), 0 (fake)", "#fdd0a2"),
    "d_frozen": ((4.9, -1.0), "discriminator $D$\nnot updated\n(dropout on)", "#fdd0a2"),
    "g_loss": ((7.3, -1.0), "generator's loss\n$-\\log D(G(x))$:\nonly $G$ updated", "#c7e9c0"),
    "d_loss": ((7.3, 1.4), "discriminator's loss\n$L_D$: only $D$\nupdated", "#c7e9c0"),
}
FLOW_ARROWS = [("digit", "d_step", "real"), ("corrupted", "g_predict", ""), ("g_predict", "d_step", "fake $G(x)$"),
               ("corrupted", "g_train", ""), ("g_train", "d_frozen", "$G(x)$"), ("d_frozen", "g_loss", "target 1"),
               ("d_step", "d_loss", "")]


def gan_data_flow(title="One iteration of the paper's GAN"):
    """One training iteration of the paper's recipe: the discriminator's step on real digits and
    on `generator.predict`'s fills, then the generator's step through the discriminator, which
    that step does not update.
    The generator runs in two modes; chapter 5 shows why that matters."""
    figure, axis = plt.subplots(figsize=(9.2, 3.9))
    width, height = 1.75, 1.05
    for (x, y), text, colour in FLOW_BOXES.values():
        axis.add_patch(FancyBboxPatch((x, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                      facecolor=colour, edgecolor="#555555", linewidth=0.8))
        axis.text(x + width / 2, y, text, ha="center", va="center", fontsize=7.5)
    for start, end, label in FLOW_ARROWS:
        (x0, y0), (x1, y1) = FLOW_BOXES[start][0], FLOW_BOXES[end][0]
        tail = (x0 + width, y0) if x1 > x0 else (x0 + width / 2, y0 - height / 2)
        head = (x1, y1)
        axis.add_patch(FancyArrowPatch(tail, head, arrowstyle="-|>", mutation_scale=10, color="#444444", linewidth=0.9))
        if label:
            axis.text((tail[0] + head[0]) / 2, (tail[1] + head[1]) / 2 + 0.12, label, ha="right", fontsize=7)
    axis.text(0.0, -2.05, "step 1: update $D$ on 128 real digits and their 128 fills.   step 2: update $G$ on the same "
              "corrupted digits, through $D$, asking it to say \"real\".", fontsize=7.5)
    axis.set_xlim(-0.2, 9.3)
    axis.set_ylim(-2.3, 2.7)
    axis.axis("off")
    axis.set_title(title)
    return figure
