import dataclasses
import json

import pytest

from lib import config
from lib.config import PAPER, Budget, GANConfig, budget, run_mode


def test_paper_has_the_papers_training_values():
    assert PAPER.batch_size == 128
    assert PAPER.epochs == 6
    assert PAPER.generator_learning_rate == pytest.approx(2e-4)
    assert PAPER.discriminator_learning_rate == pytest.approx(4e-4)
    assert PAPER.adam_beta_1 == pytest.approx(0.5)
    assert PAPER.real_label == pytest.approx(0.9)
    assert PAPER.fake_label == 0.0


def test_paper_has_the_papers_mask_and_architecture():
    assert PAPER.image_size == 28
    assert PAPER.hole_size == 8
    assert (PAPER.hole_corner_min, PAPER.hole_corner_max) == (8, 11)
    assert PAPER.generator_filters == (32, 64, 128)
    assert PAPER.discriminator_filters == (64, 128, 256)
    assert PAPER.discriminator_strides == (2, 2, 1)
    assert PAPER.leaky_relu_slope == pytest.approx(0.2)
    assert PAPER.dropout_rate == pytest.approx(0.2)


def test_paper_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PAPER.epochs = 1


def test_variant_returns_a_changed_copy():
    short = PAPER.variant("short", epochs=2, batch_size=64)
    assert short.name == "short"
    assert (short.epochs, short.batch_size) == (2, 64)
    assert short.generator_learning_rate == PAPER.generator_learning_rate
    assert (PAPER.name, PAPER.epochs, PAPER.batch_size) == ("paper", 6, 128)


def test_variant_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown configuration fields.*'epoch'"):
        PAPER.variant("typo", epoch=3)


def test_variant_validates_its_result():
    with pytest.raises(ValueError, match="epochs"):
        PAPER.variant("broken", epochs=0)


def test_to_dict_holds_every_field():
    values = PAPER.to_dict()
    assert values["batch_size"] == 128
    assert set(values) == {field.name for field in dataclasses.fields(GANConfig)}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"image_size": 30}, "image_size"),
        ({"image_size": 4}, "image_size"),
        ({"hole_size": 0}, "hole_size"),
        ({"hole_size": 29}, "hole_size"),
        ({"hole_corner_min": 12, "hole_corner_max": 11}, "hole corner range"),
        ({"hole_corner_min": -1}, "hole corner range"),
        ({"hole_corner_max": 21}, "hole corner range"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": -1}, "epochs"),
        ({"generator_learning_rate": 0.0}, "generator_learning_rate"),
        ({"discriminator_learning_rate": -1e-4}, "discriminator_learning_rate"),
        ({"real_label": 0.0}, "labels"),
        ({"real_label": 1.1}, "labels"),
        ({"fake_label": 0.95}, "labels"),
        ({"fake_label": -0.1}, "labels"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
        ({"warmup_epochs": 1, "epochs": 2}, "reconstruction warm-up needs a reconstruction loss"),
        ({"warmup_epochs": 2, "epochs": 2, "reconstruction_loss": "l2", "reconstruction_weight": 1.0},
         "at least one adversarial epoch"),
        ({"adversarial_phase_learning_rate": -1e-4}, "adversarial_phase_learning_rate"),
        ({"adversarial_phase_learning_rate": 1e-4, "learning_rate_decay": True}, "needs a warm-up before it"),
        ({"adversarial_phase_learning_rate": 1e-4, "warmup_epochs": 1, "reconstruction_loss": "l2",
          "reconstruction_weight": 1.0}, "learning_rate_decay=False"),
        ({"adversarial_phase_learning_rate": 1e-4, "warmup_epochs": 1, "reconstruction_loss": "l2",
          "reconstruction_weight": 1.0, "learning_rate_decay": True, "generator_steps": 2}, "generator_steps=2"),
        ({"learning_rate_schedule": "step"}, "learning_rate_schedule must be one of"),
        ({"learning_rate_schedule": "cosine"}, "set learning_rate_decay too"),
    ],
)
def test_invalid_configs_raise(changes, message):
    with pytest.raises(ValueError, match=message):
        GANConfig(**changes)


@pytest.mark.parametrize(
    "kind, changes, message",
    [
        (config.ClassifierConfig, {"filters": ()}, "filters"),
        (config.ClassifierConfig, {"filters": (32, 0, 128)}, "filters"),
        (config.ClassifierConfig, {"dense_units": 12.5}, "dense_units"),
        (config.ClassifierConfig, {"epochs": 0}, "epochs"),
        (config.DenseClassifierConfig, {"hidden_units": ()}, "hidden_units"),
        (config.DenseClassifierConfig, {"hidden_units": (512, True)}, "hidden_units"),
        (config.DenseClassifierConfig, {"dropout_rate": 1.0}, "dropout_rate"),
        (config.DenseClassifierConfig, {"dropout_rate": -0.1}, "dropout_rate"),
        (config.DenseClassifierConfig, {"batch_size": 0}, "batch_size"),
        (config.DenseClassifierConfig, {"learning_rate": 0.0}, "learning_rate"),
    ],
)
def test_invalid_classifier_configs_raise(kind, changes, message):
    with pytest.raises(ValueError, match=message):
        kind(**changes)


def test_the_cross_check_classifier_is_another_architecture_with_its_own_budget():
    assert isinstance(config.CROSS_CHECK_CLASSIFIER, config.DenseClassifierConfig)
    assert config.CROSS_CHECK_CLASSIFIER.hidden_units == (512, 512)
    assert config.CROSS_CHECK_CLASSIFIER.epochs == 10 and config.CLASSIFIER.epochs == 3
    assert config.CROSS_CHECK_CLASSIFIER != config.CLASSIFIER


def test_largest_valid_hole_corner_is_accepted():
    config = GANConfig(hole_corner_min=0, hole_corner_max=20)
    assert config.hole_corner_max + config.hole_size == config.image_size


def test_run_mode_defaults_to_full(monkeypatch):
    monkeypatch.delenv(config.MODE_VARIABLE, raising=False)
    assert run_mode() == "full"


def test_run_mode_treats_blank_as_full(monkeypatch):
    monkeypatch.setenv(config.MODE_VARIABLE, "  ")
    assert run_mode() == "full"


@pytest.mark.parametrize("value, expected", [("full", "full"), ("quick", "quick"), (" Quick ", "quick")])
def test_run_mode_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("GAN_BOOK_MODE", value)
    assert run_mode() == expected


def test_run_mode_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("GAN_BOOK_MODE", "fast")
    with pytest.raises(ValueError, match="GAN_BOOK_MODE must be one of.*'fast'"):
        run_mode()


def test_full_budget_is_the_papers():
    full = budget("full")
    assert full == Budget("full", None, PAPER.epochs, config.CLASSIFIER.epochs)


def test_quick_budget_is_smaller_than_full():
    quick, full = budget("quick"), budget("full")
    assert quick.mode == "quick"
    assert quick.train_images is not None and 0 < quick.train_images < 60000
    assert 1 <= quick.gan_epochs < full.gan_epochs
    assert 1 <= quick.classifier_epochs <= full.classifier_epochs


def test_budget_follows_the_run_mode(monkeypatch):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    assert budget() == budget("quick")
    monkeypatch.setenv("GAN_BOOK_MODE", "full")
    assert budget() == budget("full")


def test_budget_rejects_unknown_modes():
    with pytest.raises(ValueError, match="mode must be one of"):
        budget("slow")


def test_from_dict_inverts_to_dict_and_fills_fields_a_record_lacks():
    variant = PAPER.variant("v", composite=True, generator_filters=(8, 16, 32))
    assert GANConfig.from_dict(json.loads(json.dumps(variant.to_dict()))) == variant
    old_record = {key: value for key, value in PAPER.to_dict().items() if key not in ("composite", "mask_channel")}
    assert GANConfig.from_dict(old_record) == PAPER
    with pytest.raises(ValueError, match="unknown"):
        GANConfig.from_dict({"colour": "blue"})


def changed_fields(base, variant):
    return {f.name for f in dataclasses.fields(GANConfig) if getattr(base, f.name) != getattr(variant, f.name)} - {"name"}


def test_training_changes_are_cumulative_one_change_at_a_time():
    training_steps = list(config.VARIANTS)[: list(config.VARIANTS).index(config.CANDIDATE_BASELINE) + 1]
    assert training_steps[0] == "paper"
    expected = [{"reconstruction_loss", "reconstruction_weight", "adversarial_weight"}, {"composite"},
                {"mask_channel"}, {"random_holes"}]
    for (before, after), fields in zip(zip(training_steps, training_steps[1:]), expected, strict=True):
        assert changed_fields(config.VARIANTS[before], config.VARIANTS[after]) == fields


def test_each_architecture_candidate_is_one_change_on_the_baseline():
    baseline = config.VARIANTS[config.CANDIDATE_BASELINE]
    for name, change in config.CANDIDATE_CHANGES.items():
        assert config.VARIANTS[name].name == name
        assert changed_fields(baseline, config.VARIANTS[name]) == set(change)
    assert list(config.VARIANTS)[-len(config.CANDIDATE_CHANGES):] == list(config.CANDIDATE_CHANGES)


def test_recommended_budget_is_longer_than_the_ablation():
    assert config.RECOMMENDED_EPOCHS > config.ABLATION_EPOCHS


def test_variant_base_names_what_each_change_is_added_to():
    assert config.variant_base("paper") is None
    assert config.variant_base("+ L2 hole loss") == "paper"
    assert config.variant_base("+ composite") == "+ L2 hole loss"
    for name in config.CANDIDATE_CHANGES:
        assert config.variant_base(name) == config.CANDIDATE_BASELINE


def test_variant_base_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="unknown variant"):
        config.variant_base("+ magic")


def test_variant_named_combines_candidate_changes_on_the_baseline():
    combined = config.variant_named("+ global context + centred holes")
    baseline = config.VARIANTS[config.CANDIDATE_BASELINE]
    assert combined.name == "+ global context + centred holes"
    assert changed_fields(baseline, combined) == {"global_context", "centred_hole_share"}
    assert config.variant_named("+ composite") == config.VARIANTS["+ composite"]


@pytest.mark.parametrize("name", ["+ magic", "+ global context + magic", "+ global context + global context",
                                  "+ composite + global context", None])
def test_variant_named_rejects_unknown_combinations(name):
    with pytest.raises(ValueError, match="unknown variant"):
        config.variant_named(name)


def test_combined_name_orders_candidates_and_falls_back_to_the_baseline():
    assert config.combined_name(["+ centred holes", "+ global context"]) == "+ global context + centred holes"
    assert config.combined_name([]) == config.CANDIDATE_BASELINE
    with pytest.raises(ValueError, match="unknown candidate"):
        config.combined_name(["+ composite"])


def test_centred_holes_need_random_holes_and_a_share_in_range():
    with pytest.raises(ValueError, match="random holes"):
        PAPER.variant("x", centred_hole_share=0.5)
    with pytest.raises(ValueError, match="centred_hole_share"):
        PAPER.variant("x", random_holes=True, centred_hole_share=1.5)


def test_departures_name_every_field_a_variant_changes():
    assert config.PAPER.departures() == {}
    assert config.PAPER.variant("renamed").departures() == {}
    assert config.PAPER.variant("x", generator_steps=2, instance_noise=0.1).departures() == {
        "generator_steps": 2, "instance_noise": 0.1}


@pytest.mark.parametrize("changes, message", [
    (dict(generator_steps=0), "generator_steps must be an integer >= 1"),
    (dict(noise_size=-1), "noise_size must be a non-negative integer"),
    (dict(instance_noise=-0.1), "instance_noise must be >= 0"),
    (dict(adam_beta_1=1.0), "adam_beta_1 must be a number in"),
    (dict(dropout_rate=1.0), "dropout_rate must be a number in"),
    (dict(discriminator_learning_rate=0.0), "discriminator_learning_rate must be a finite number > 0"),
])
def test_the_collapse_studys_fields_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        config.PAPER.variant("bad", **changes)


@pytest.mark.parametrize("changes, message", [
    (dict(adversary="local"), "adversary must be one of"),
    (dict(adversary="patch", generator_steps=2), "one generator step"),
    (dict(adversary="global+local", instance_noise=0.1), "without instance noise"),
    (dict(feature_matching_weight=-1.0), "feature_matching_weight"),
    (dict(warm_start=3), "warm_start"),
])
def test_the_adversary_fields_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        PAPER.variant("bad", **changes)


@pytest.mark.parametrize("field, value", [("mask_channel", "no"), ("composite", 1), ("image_size", 28.0),
                                          ("batch_size", 64.0), ("name", 5), ("generator_filters", [32, 64, 128])])
def test_a_configuration_read_from_a_record_has_each_fields_type(field, value):
    values = {**PAPER.to_dict(), field: value}
    with pytest.raises(ValueError, match=rf"GANConfig\.{field} must be an? "):
        GANConfig(**values)


def test_a_record_with_a_field_of_the_wrong_type_is_refused_naming_the_file_and_field(tmp_path):
    from lib import runs

    record = {"config": {**PAPER.to_dict(), "mask_channel": "no"}, "seed": 0}
    with pytest.raises(ValueError, match=r"run\.json holds a record that does not describe a run: GANConfig\.mask_channel"):
        runs.check_record(record, tmp_path / "run.json")
