"""Tests of lib.classifiers."""
import pytest

from lib import artifacts, classifiers, data, datasets, models, runs
from lib.config import (
    CLASSIFIER, CROSS_CHECK_CLASSIFIER, MODE_VARIABLE, PAPER, DenseClassifierConfig, budget, ClassifierConfig,
)

from stubs import forbid_work, synthetic_test_set

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts


SIZE = PAPER.image_size


def test_classifier_epochs_caps_only_quick_runs():
    assert classifiers.classifier_epochs(10, budget("full")) == 10
    assert classifiers.classifier_epochs(10, budget("quick")) == budget("quick").classifier_epochs


def test_run_classifiers_trains_the_cross_check_architecture_into_its_folder(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=2)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x, y)))
    classifiers.run_classifiers([0], verbose=0, config=CROSS_CHECK_CLASSIFIER, root=runs.mode_root())
    folder = private_artifacts / "quick" / "classifier-dense"
    assert sorted(path.name for path in folder.iterdir()) == ["manifest.json", "seed0.json", "seed0.weights.h5"]
    assert artifacts.verify_manifest(folder)  # the weights and their record are listed: verified when loaded
    record = artifacts.load_json(folder / "seed0.json")
    assert record["epochs"] == 1  # quick mode's budget, not the full 10
    assert record["config"] == {**CROSS_CHECK_CLASSIFIER.to_dict(), "hidden_units": [512, 512]}
    # the weights load only into the cross-check architecture, and score what the record says
    model = artifacts.load_weights(models.build_classifier(CROSS_CHECK_CLASSIFIER), folder / "seed0.weights.h5")
    assert record["clean_test_accuracy"] == float((classifiers.classify(model, data.to_model_input(x)) == y).mean())
    assert not (private_artifacts / "quick" / "classifier").exists()


@pytest.mark.parametrize("config, epochs", [(CLASSIFIER, 3), (CROSS_CHECK_CLASSIFIER, 10)])
def test_run_classifiers_trains_each_architecture_for_its_own_epochs_in_full_mode(monkeypatch, private_artifacts,
                                                                                 config, epochs):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    x, y = synthetic_test_set(per_class=1)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x, y)))
    calls = []

    def fake_train(x_train, y_train, seed, used_config, epochs, verbose):
        calls.append((seed, used_config, epochs))
        return models.build_classifier(used_config)

    monkeypatch.setattr(classifiers, "train_classifier", fake_train)
    classifiers.run_classifiers([4], verbose=0, config=config)
    assert calls == [(4, config, epochs)]
    assert artifacts.load_json(classifiers.classifier_record(4, config=config))["epochs"] == epochs
    assert classifiers.classifier_weights(4, config).is_file()


def test_run_classifiers_keeps_a_classifier_already_trained(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    x, y = synthetic_test_set(per_class=1)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x, y)))
    trained = []
    monkeypatch.setattr(classifiers, "train_classifier",
                        lambda x_train, y_train, seed, config, epochs, verbose: trained.append(seed)
                        or models.build_classifier(config))
    kept = classifiers.classifier_weights(0)
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"weights trained before")
    classifiers.run_classifiers([0, 1], verbose=0, root=runs.mode_root())
    assert trained == [1]
    assert kept.read_bytes() == b"weights trained before" and not classifiers.classifier_record(0).exists()


@pytest.mark.parametrize("config", [PAPER, DenseClassifierConfig(hidden_units=(64,))])
def test_run_classifiers_checks_the_config_before_any_work(monkeypatch, private_artifacts, config):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="shipped classifier configurations"):
        classifiers.run_classifiers([0], config=config)
    assert not private_artifacts.exists()


@pytest.mark.parametrize("config", [None, "dense", PAPER, DenseClassifierConfig(hidden_units=(64,)),
                                    ClassifierConfig(epochs=10)])
def test_classifier_folder_exists_only_for_the_shipped_configs(config):
    """Another configuration of either architecture would find, or be skipped for, weights it did not train."""
    with pytest.raises(ValueError, match="only the shipped classifier configurations"):
        classifiers.classifier_folder(config)
