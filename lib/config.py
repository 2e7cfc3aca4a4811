"""The paper's hyper-parameters in one frozen object, its named variants, and the run mode.

Everything a chapter or a script needs to know about *how much* to compute is read here and
nowhere else: the run mode switch (`GAN_BOOK_MODE`) and the budgets that follow from it.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from lib import checks

MODE_VARIABLE = "GAN_BOOK_MODE"
MODES = ("full", "quick")
ADVERSARIES = ("global", "global+local", "patch")
# The shapes a decaying learning rate can take (`lib.gan.learning_rate`).
SCHEDULES = ("hold-then-linear", "cosine", "one-cycle")


@dataclass(frozen=True)
class GANConfig:
    """The paper's DCGAN inpainting set-up (SPEC section 2). Defaults are the paper's values."""

    name: str = "paper"
    image_size: int = 28
    # The paper's mask: an 8x8 square whose top-left corner is uniform in rows/cols 8..11.
    hole_size: int = 8
    hole_corner_min: int = 8
    hole_corner_max: int = 11
    generator_filters: tuple[int, int, int] = (32, 64, 128)
    discriminator_filters: tuple[int, int, int] = (64, 128, 256)
    discriminator_strides: tuple[int, int, int] = (2, 2, 1)
    leaky_relu_slope: float = 0.2
    dropout_rate: float = 0.2
    batch_size: int = 128
    epochs: int = 6
    generator_learning_rate: float = 2e-4
    discriminator_learning_rate: float = 4e-4
    adam_beta_1: float = 0.5
    real_label: float = 0.9
    fake_label: float = 0.0
    # Beyond the paper (chapter 6). The defaults switch every change off, i.e. the paper's model.
    adversarial_weight: float = 1.0
    reconstruction_loss: str = "none"  # "none", "l1" or "l2", over the hole pixels only
    reconstruction_weight: float = 0.0
    composite: bool = False  # keep the known pixels: mask * generated + (1 - mask) * input
    mask_channel: bool = False  # give the generator the mask as a second input channel
    random_holes: bool = False  # train on random squares of random size instead of the paper's mask
    random_hole_min: int = 6
    random_hole_max: int = 18
    # Of the random holes, the share centred on the image (within CENTRE_JITTER pixels) rather
    # than placed anywhere: the centre is where a digit's identity is, and what chapter 6 measures.
    centred_hole_share: float = 0.0
    skip_connections: bool = False  # U-Net style: decoder blocks also see the encoder's maps
    global_context: bool = False  # Context Encoders' channel-wise fully connected bottleneck
    # CycleGAN's schedule: both learning rates hold for the first half of training, then fall
    # linearly towards zero at its end, so the weights settle instead of wandering.
    learning_rate_decay: bool = False
    # The decay's shape (appendix D): CycleGAN's hold-then-linear; a cosine from the start
    # (Loshchilov and Hutter's SGDR without restarts); or one-cycle (Smith), a linear warm-up from
    # a 25th of the rate to the rate over the first 30 % of the run, then a cosine to zero.
    learning_rate_schedule: str = "hold-then-linear"
    # GLCIC's first phase (appendix D): the first epochs train the generator on the
    # reconstruction loss alone, the discriminator switched off; the adversarial phase follows.
    warmup_epochs: int = 0
    # After a warm-up, the generator restarts at this rate for the adversarial phase, and both
    # networks hold then decay theirs over it (chapter 7's fine-tunes); 0: one schedule for the run.
    adversarial_phase_learning_rate: float = 0.0
    # Speed (appendix D): compute in bfloat16, keep float32 weights and losses (Keras "mixed_bfloat16").
    mixed_precision: bool = False
    # One training-mode generator pass for both updates, not the paper's two (chapter 5; appendix D).
    share_generator_pass: bool = False
    # Suspects of the collapse study (chapter 5). The paper: one generator update per
    # discriminator update, no instance noise, no noise vector.
    generator_steps: int = 1  # generator updates per iteration, each on the same batch
    instance_noise: float = 0.0  # std of Gaussian noise added to every image the discriminator sees in training
    noise_size: int = 0  # length of a random noise vector fed to the generator's bottleneck (0: none)
    # The adversary (chapter 7; `lib.adversaries`): the paper's discriminator on the whole digit
    # ("global"), GLCIC's global and local pair ("global+local"), or DeepFill v2's mask-aware
    # SN-PatchGAN with the hinge loss ("patch").
    adversary: str = "global"
    # pix2pixHD's discriminator feature matching: the L1 distance between the discriminator's
    # hidden features of the real digit and of its fill, added to the generator's loss.
    feature_matching_weight: float = 0.0
    # Start the generator from a finished run's weights (its folder, relative to the repository)
    # instead of a random initialisation, as GLCIC trains: reconstruction first, then adversarially.
    warm_start: str = ""

    def __post_init__(self):
        checks.field_types(self)
        if self.image_size < 8 or self.image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 and >= 8, got {self.image_size}")
        if not 0 < self.hole_size <= self.image_size:
            raise ValueError(f"hole_size must be in 1..{self.image_size}, got {self.hole_size}")
        if not 0 <= self.hole_corner_min <= self.hole_corner_max <= self.image_size - self.hole_size:
            raise ValueError("hole corner range must satisfy 0 <= min <= max <= image_size - hole_size, got "
                             f"{self.hole_corner_min}..{self.hole_corner_max} for a {self.hole_size}px hole")
        for field in ("batch_size", "epochs", "generator_steps"):
            checks.count(getattr(self, field), field, minimum=1)
        checks.count(self.noise_size, "noise_size")
        checks.count(self.warmup_epochs, "warmup_epochs")
        if self.warmup_epochs and (self.reconstruction_loss == "none" or self.warmup_epochs >= self.epochs):
            raise ValueError("a reconstruction warm-up needs a reconstruction loss and at least one adversarial "
                             f"epoch after it, got warmup_epochs={self.warmup_epochs} of {self.epochs}")
        if self.adversarial_phase_learning_rate:
            checks.positive(self.adversarial_phase_learning_rate, "adversarial_phase_learning_rate")
            if not (self.warmup_epochs and self.learning_rate_decay) or self.generator_steps > 1:
                raise ValueError("an adversarial phase's own rate needs a warm-up before it, learning_rate_decay and one "
                                 f"generator step an iteration, got warmup_epochs={self.warmup_epochs}, "
                                 f"learning_rate_decay={self.learning_rate_decay}, generator_steps={self.generator_steps}")
        if self.learning_rate_schedule not in SCHEDULES:
            raise ValueError(f"learning_rate_schedule must be one of {SCHEDULES}, got {self.learning_rate_schedule!r}")
        if self.learning_rate_schedule != SCHEDULES[0] and not self.learning_rate_decay:
            raise ValueError("a learning-rate schedule shapes the decay: set learning_rate_decay too")
        for field in ("generator_learning_rate", "discriminator_learning_rate"):
            checks.positive(getattr(self, field), field)
        checks.fraction(self.dropout_rate, "dropout_rate", high=0.95)
        checks.fraction(self.adam_beta_1, "adam_beta_1", high=0.999)
        if self.share_generator_pass and self.generator_steps > 1:
            raise ValueError("a shared generator pass makes one generator update per iteration: generator_steps must be 1")
        if self.instance_noise < 0:
            raise ValueError(f"instance_noise must be >= 0, got {self.instance_noise}")
        if self.reconstruction_loss not in ("none", "l1", "l2"):
            raise ValueError(f"reconstruction_loss must be 'none', 'l1' or 'l2', got {self.reconstruction_loss!r}")
        if self.adversary not in ADVERSARIES:
            raise ValueError(f"adversary must be one of {ADVERSARIES}, got {self.adversary!r}")
        if self.adversary != "global" and (self.instance_noise or self.mixed_precision or self.generator_steps > 1):
            raise ValueError("the literature's adversaries are built for float32, one generator step per "
                             "iteration, without instance noise")
        if self.feature_matching_weight < 0:
            raise ValueError(f"feature_matching_weight must be >= 0, got {self.feature_matching_weight}")
        if self.feature_matching_weight and self.instance_noise:
            raise ValueError("feature matching compares the discriminator's hidden features, which instance noise hides")
        if not isinstance(self.warm_start, str):
            raise ValueError(f"warm_start must be a run folder's path (a string), got {self.warm_start!r}")
        if self.reconstruction_weight < 0 or self.adversarial_weight < 0:
            raise ValueError("loss weights must be >= 0")
        if (self.reconstruction_loss == "none") != (self.reconstruction_weight == 0):
            raise ValueError("a reconstruction loss needs a positive reconstruction_weight, and vice versa")
        if not 1 <= self.random_hole_min <= self.random_hole_max <= self.image_size:
            raise ValueError(
                f"random holes need 1 <= min <= max <= image_size, got {self.random_hole_min}..{self.random_hole_max}"
            )
        checks.fraction(self.centred_hole_share, "centred_hole_share")
        if self.centred_hole_share and not self.random_holes:
            raise ValueError("centred_hole_share applies to random holes: set random_holes too")
        if not 0 <= self.fake_label < self.real_label <= 1:
            raise ValueError(
                f"labels must satisfy 0 <= fake < real <= 1, got fake={self.fake_label}, real={self.real_label}"
            )

    def variant(self, name: str, **changes) -> "GANConfig":
        """The same configuration with named changes, e.g. ``PAPER.variant("short", epochs=2)``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown configuration fields {sorted(unknown)}")
        return dataclasses.replace(self, name=name, **changes)

    def departures(self) -> dict:
        """The fields in which this configuration differs from the paper's, its name aside."""
        paper = GANConfig()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "name" and getattr(self, f.name) != getattr(paper, f.name)}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "GANConfig":
        """The inverse of `to_dict` (JSON lists become tuples). Fields a record lacks take their
        defaults: records written before a field existed were made with its default value."""
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown configuration fields {sorted(unknown)}")
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


@dataclass(frozen=True)
class ClassifierConfig:
    """The paper's evaluation classifier: three ReLU convolutions, two dense layers, softmax."""

    filters: tuple[int, int, int] = (32, 64, 128)
    dense_units: int = 128
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 1e-3

    def __post_init__(self):
        checks.field_types(self)
        _check_layer_sizes("filters", self.filters)
        _check_layer_sizes("dense_units", (self.dense_units,))
        _check_training_budget(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _check_layer_sizes(field, sizes):
    if not sizes:
        raise ValueError(f"{field} must be one or more positive integers, got {sizes!r}")
    for size in sizes:
        checks.count(size, field, minimum=1)


def _check_training_budget(config):
    for field in ("epochs", "batch_size"):
        checks.count(getattr(config, field), field, minimum=1)
    checks.positive(config.learning_rate, "learning_rate")


@dataclass(frozen=True)
class DenseClassifierConfig:
    """The cross-check classifier (appendix B): a multilayer perceptron on the 784 pixels, with
    dropout. It has no convolutions, so none of their built-in view of strokes and shapes: if the
    book's results hold for it too, they are not a quirk of the paper's classifier."""

    hidden_units: tuple[int, ...] = (512, 512)
    dropout_rate: float = 0.2
    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3

    def __post_init__(self):
        checks.field_types(self)
        _check_layer_sizes("hidden_units", self.hidden_units)
        if not 0 <= self.dropout_rate < 1:
            raise ValueError(f"dropout_rate must be in [0, 1), got {self.dropout_rate}")
        _check_training_budget(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PAPER = GANConfig()


CENTRE_JITTER = 3  # pixels either way, for the centred random holes

# The candidate changes of chapter 6 are tried one at a time on top of the last cumulative change;
# those that measurably help are kept, together (`lib.studies.ablation.choose_recommended`).
CANDIDATE_BASELINE = "+ random holes"
CANDIDATE_CHANGES = {
    "+ skip connections": dict(skip_connections=True),
    "+ global context": dict(global_context=True),
    "+ centred holes": dict(centred_hole_share=0.5),
    "+ learning-rate decay": dict(learning_rate_decay=True),
}


def _ablation_variants():
    """The training changes of chapter 6, each added on top of the previous ones (the ablation
    order), then each architectural candidate on top of the last of them."""
    steps = [
        ("+ L2 hole loss", dict(reconstruction_loss="l2", reconstruction_weight=0.999, adversarial_weight=0.001)),
        ("+ composite", dict(composite=True)),
        ("+ mask channel", dict(mask_channel=True)),
        (CANDIDATE_BASELINE, dict(random_holes=True)),
    ]
    variants, changes = {"paper": PAPER}, {}
    for name, change in steps:
        changes.update(change)
        variants[name] = PAPER.variant(name, **changes)
    for name, change in CANDIDATE_CHANGES.items():
        variants[name] = variants[CANDIDATE_BASELINE].variant(name, **change)
    return variants


# Context Encoders (Pathak et al. 2016) weights an L2 reconstruction 0.999 and the adversarial loss 0.001.
VARIANTS = _ablation_variants()


def variant_named(name: str) -> GANConfig:
    """A variant by name: one of `VARIANTS`, or candidate changes combined on the baseline,
    named by joining theirs, e.g. ``"+ global context + centred holes"``."""
    if name in VARIANTS:
        return VARIANTS[name]
    parts = ["+ " + part for part in name.removeprefix("+ ").split(" + ")] if isinstance(name, str) else []
    if len(parts) < 2 or any(part not in CANDIDATE_CHANGES for part in parts) or len(set(parts)) != len(parts):
        raise ValueError(f"unknown variant {name!r}; choose from {list(VARIANTS)} or join candidates "
                         f"{list(CANDIDATE_CHANGES)}")
    changes = {}
    for part in parts:
        changes.update(CANDIDATE_CHANGES[part])
    return VARIANTS[CANDIDATE_BASELINE].variant(name, **changes)


def combined_name(candidates) -> str:
    """The name of candidate changes combined on the baseline (the baseline's name if none)."""
    candidates = list(candidates)
    unknown = [name for name in candidates if name not in CANDIDATE_CHANGES]
    if unknown:
        raise ValueError(f"unknown candidate changes {unknown}; choose from {list(CANDIDATE_CHANGES)}")
    ordered = [name for name in CANDIDATE_CHANGES if name in candidates]
    return " ".join(ordered) if ordered else CANDIDATE_BASELINE


def variant_base(name: str) -> str | None:
    """The variant that ``name`` adds its one change to (None for the paper itself)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from {list(VARIANTS)}")
    if name in CANDIDATE_CHANGES:
        return CANDIDATE_BASELINE
    names = list(VARIANTS)
    return names[names.index(name) - 1] if name != "paper" else None


ABLATION_EPOCHS = 2  # each ablation step's budget
RECOMMENDED_EPOCHS = 40  # the recommended model's budget: at 12 and at 24 epochs its reconstruction loss still fell

# Fixed seeds of the evaluation protocol: every method is scored on the same holes.
EVALUATION_MASK_SEED = 20230301
SNAPSHOT_MASK_SEED = 6  # the digits shown after every epoch (the paper's Fig. 4 shows epoch 6)
PROBE_SIZE = 1000  # test digits classified during training to watch progress and collapse
CLASSIFIER = ClassifierConfig()
CROSS_CHECK_CLASSIFIER = DenseClassifierConfig()


@dataclass(frozen=True)
class Budget:
    """How much data and how many steps a chapter uses in the current run mode."""

    mode: str
    train_images: int | None  # None: all 60,000
    gan_epochs: int
    classifier_epochs: int


def run_mode() -> str:
    """``"full"`` (the paper's budget, used for the committed outputs) or ``"quick"`` (CI)."""
    mode = os.environ.get(MODE_VARIABLE, "full").strip().lower() or "full"
    if mode not in MODES:
        raise ValueError(f"{MODE_VARIABLE} must be one of {MODES}, got {mode!r}")
    return mode


def describe_mode() -> str:
    """The line every chapter prints first, so a notebook records the mode it was executed in."""
    return f"run mode: {run_mode()} (set {MODE_VARIABLE}=quick for a fast run, full for the paper's budget)"


def budget(mode: str | None = None) -> Budget:
    mode = run_mode() if mode is None else mode
    if mode == "full":
        return Budget(mode, None, PAPER.epochs, CLASSIFIER.epochs)
    if mode == "quick":
        # Every code path still runs on real MNIST, on a slice small enough for CI. Evaluation
        # always uses all 10,000 test digits (seconds), so CI checks the book's real numbers.
        return Budget(mode, 2048, 2, 1)
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
