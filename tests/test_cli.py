import pytest

from lib import artifacts, cli, collapse, data, evaluation, fitting, recipes, runs, studies, tradeoff
from lib.config import ABLATION_EPOCHS, CROSS_CHECK_CLASSIFIER, MODE_VARIABLE


@pytest.fixture(autouse=True)
def private_artifacts(monkeypatch, tmp_path):
    """Nothing here may touch the real artifacts folder."""
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path / "artifacts"))
    monkeypatch.setenv(MODE_VARIABLE, "full")
    return tmp_path / "artifacts"


def forbid_work(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for module, name in ((data, "load_mnist"), (fitting, "fit_gan"), (evaluation, "load_classifier")):
        monkeypatch.setattr(module, name, fail)


ENTRY_POINTS = ("run_classifiers", "run_paper_gan", "run_collapse", "write_collapse_summary", "run_ablation",
                "run_speed_study", "run_ceiling", "run_variant", "choose_recommended")


@pytest.fixture
def calls(monkeypatch):
    """Every recipe the command line can start replaced by a recorder of ``(recipe, args, kwargs)``."""
    seen = []
    for name in ENTRY_POINTS:
        monkeypatch.setattr(recipes, name, lambda *args, _name=name, **kwargs: seen.append((_name, args, kwargs)))
    return seen


def refused(capsys, argv, message):
    """``main(argv)`` exits with argparse's usage error, saying ``message``."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- what each run starts


@pytest.mark.parametrize("argv, expected", [
    (["classifier"], [("run_classifiers", ([0],), {})]),
    (["classifier", "--seeds", "0", "1", "2"], [("run_classifiers", ([0, 1, 2],), {})]),
    (["cross-check-classifier", "--seeds", "0", "1"],
     [("run_classifiers", ([0, 1],), {"config": CROSS_CHECK_CLASSIFIER})]),
    (["paper-gan", "--seeds", "1", "2"], [("run_paper_gan", ([1, 2],), {})]),
    (["ablation"], [("run_ablation", (ABLATION_EPOCHS, 0), {})]),
    (["ablation", "--epochs", "4", "--seeds", "0", "1"], [("run_ablation", (4, 0), {}), ("run_ablation", (4, 1), {})]),
    (["variant", "--name", "+ composite", "--seeds", "2", "3"],
     [("run_variant", ("+ composite", ABLATION_EPOCHS, 2), {}),
      ("run_variant", ("+ composite", ABLATION_EPOCHS, 3), {})]),
    (["speed-study"], [("run_speed_study", (), {"seeds": [0, 1], "epochs": ABLATION_EPOCHS, "name": None})]),
    (["speed-study", "--seeds", "5", "--epochs", "3", "--name", "+ composite"],
     [("run_speed_study", (), {"seeds": [5], "epochs": 3, "name": "+ composite"})]),
    (["collapse", "--recipe", "paper", "--seeds", "0", "1"],
     [("run_collapse", ("paper", [0, 1]), {"epochs": collapse.DECIDING_EPOCHS})]),
    (["collapse", "--recipe", "no label smoothing", "--epochs", "6"],
     [("run_collapse", ("no label smoothing", [0]), {"epochs": 6})]),
    (["collapse-summary"], [("write_collapse_summary", (), {})]),
])
def test_main_starts_the_run_asked_for(calls, argv, expected):
    cli.main(argv)
    assert calls == expected


def test_main_recommended_chooses_then_trains_the_choice_for_its_own_budget(monkeypatch, calls):
    def choose():
        artifacts.save_json(runs.recommended_record(), {"chosen": "+ global context", "epochs": 12})
        calls.append(("choose_recommended", (), {}))
        return "+ global context"

    monkeypatch.setattr(recipes, "choose_recommended", choose)
    cli.main(["recommended", "--seeds", "0", "1"])
    assert calls == [("choose_recommended", (), {}), ("run_variant", ("+ global context", 12, 0), {}),
                     ("run_variant", ("+ global context", 12, 1), {})]


def test_main_collapse_summary_prints_the_summary(monkeypatch, capsys):
    monkeypatch.setattr(recipes, "write_collapse_summary", lambda: {"paper": [{"seed": 0, "collapsed": True}]})
    cli.main(["collapse-summary"])
    assert capsys.readouterr().out.strip() == "{'paper': [{'seed': 0, 'collapsed': True}]}"


def test_main_ceiling_passes_holes_and_epochs(calls):
    cli.main(["ceiling", "--epochs", "10", "--holes", "none", "paper", "12"])
    cli.main(["ceiling", "--seeds", "3"])
    assert calls == [("run_ceiling", (), dict(holes=("none", "paper", 12), seed=0, epochs=10)),
                     ("run_ceiling", (), dict(holes=("paper", *studies.HOLE_SIZES), seed=3, epochs=None))]


# ---------------------------------------------------------------- what it refuses


def test_main_variant_with_an_unknown_or_missing_name(monkeypatch):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant 'nonsense'"):
        cli.main(["variant", "--name", "nonsense"])
    with pytest.raises(ValueError, match="unknown variant None"):
        cli.main(["variant"])


def test_main_rejects_an_unknown_run(capsys, calls):
    refused(capsys, ["everything"], "invalid choice: 'everything'")
    assert calls == []


@pytest.mark.parametrize("argv, message", [
    (["ceiling", "--holes", "huge"], "--holes takes centre sizes in 1..28 pixels"),
    (["ceiling", "--holes", "0", "99"], "--holes takes centre sizes in 1..28 pixels"),
    (["variant", "--name", "+ composite", "--holes", "8"], "variant takes no --holes"),
    (["ceiling", "--epochs", "0"], "--epochs must be >= 1"),
    (["ceiling", "--seeds", "0", "1"], "ceiling writes one record: give one seed"),
])
def test_main_rejects_bad_ceiling_arguments(capsys, calls, argv, message):
    refused(capsys, argv, message)
    assert calls == []


@pytest.mark.parametrize("argv, message", [
    (["collapse"], "collapse needs --recipe"),
    (["collapse", "--seeds", "0"], "collapse needs --recipe"),
    (["paper-gan", "--recipe", "paper"], "paper-gan takes no --recipe"),
    (["collapse-summary", "--recipe", "paper"], "collapse-summary takes no --recipe"),
    (["collapse", "--recipe", "magic"], "--recipe must be one of"),
    (["collapse", "--recipe", "paper", "--epochs", "-1"], "--epochs must be >= 1"),
])
def test_main_rejects_bad_collapse_arguments(capsys, calls, argv, message):
    refused(capsys, argv, message)
    assert calls == []


def test_main_adversary_trains_the_arms_asked_for_or_all(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(tradeoff, "run_arms", lambda *args: seen.append(args))
    cli.main(["adversary"])
    cli.main(["adversary", "--arms", "global, 0.1", "--seeds", "3", "--epochs", "2"])
    assert seen == [(list(tradeoff.ARMS), list(tradeoff.STUDY_SEEDS), tradeoff.STUDY_EPOCHS), (["global, 0.1"], [3], 2)]
    refused(capsys, ["adversary", "--arms", "global, 7"], "--arms must be among")
    refused(capsys, ["paper-gan", "--arms", "global, 0.1"], "paper-gan takes no --arms")
    assert len(seen) == 2


def test_main_realistic_trains_one_arm_and_ships_it(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(tradeoff, "run_realistic", lambda *args: seen.append(args))
    cli.main(["realistic", "--arms", "global, 0.3", "--epochs", "4"])
    cli.main(["realistic"])
    assert seen == [("global, 0.3", 4, 0), (None, tradeoff.REALISTIC_EPOCHS, 0)]
    refused(capsys, ["realistic", "--arms", "global, 0.3", "global, 0.1"], "at most one arm")
    refused(capsys, ["realistic", "--arms", "global, 0.3", "--seeds", "0", "1"], "realistic ships one model: give one seed")


def test_main_fast_trains_a_recipe_per_seed_and_time_to_quality_writes_the_record(monkeypatch, capsys):
    from lib import speed
    seen = []
    monkeypatch.setattr(speed, "train_recipe", lambda name, seed: seen.append((name, seed)))
    monkeypatch.setattr(speed, "write_record", lambda seed: {"recipes": {"fast": {"seconds": 1.0}}})
    cli.main(["fast", "--recipe", "batch 64", "--seeds", "0", "1"])
    assert seen == [("batch 64", 0), ("batch 64", 1)]
    cli.main(["time-to-quality"])
    assert "'fast': 1.0" in capsys.readouterr().out
    refused(capsys, ["fast"], "fast needs --recipe")
    refused(capsys, ["train-default", "--recipe", "fast"], "train-default takes no --recipe")
    refused(capsys, ["fast", "--recipe", "faster"], "--recipe must be one of")


def test_main_train_default_trains_the_fast_recipe_then_scores_it_against_the_targets(monkeypatch, capsys):
    from lib import selection, speed
    seen = []
    monkeypatch.setattr(speed, "train_recipe", lambda name, seed: seen.append((name, seed)))
    holes = ("paper", "c12", "c14", "c16")
    scored = {**{hole: 0.99 for hole in holes}, "detector": {hole: 0.5 for hole in holes}}
    monkeypatch.setattr(speed, "write_record", lambda names: seen.append(names) or {"recipes": {speed.FAST: scored}})
    cli.main(["train-default"])
    assert seen == [(speed.FAST, speed.SHIPPED_SEED), [speed.FAST]]
    assert repr(selection.target_report(scored)) in capsys.readouterr().out
    seen.clear()
    cli.main(["train-default", "--seeds", "0", "1", "2"])
    assert seen == [(speed.FAST, 0), (speed.FAST, 1), (speed.FAST, 2), [speed.FAST]]
    refused(capsys, ["train-default", "--seeds", "7"], "train-default records the seeds")


def test_main_hole_size_study_scores_only_the_methods_given(monkeypatch, capsys):
    from lib import scoring
    seen = []
    monkeypatch.setattr(scoring, "run_hole_size_study", lambda only=None: seen.append(only) or {"wall_seconds": 1.0})
    cli.main(["hole-size-study", "--methods", "book"])
    cli.main(["hole-size-study"])
    assert seen == [["book"], None]
    refused(capsys, ["ablation", "--methods", "book"], "ablation takes no --methods")


@pytest.mark.parametrize("devices", ["one", "all"])
def test_devices_choose_the_strategy_the_command_trains_under(calls, monkeypatch, devices):
    from lib import runtime

    chosen, inside = [], []

    class Recorder:
        def __init__(self, strategy):
            self.strategy = strategy

        def __enter__(self):
            inside.append(self.strategy)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(runtime, "device_strategy",
                        lambda name: chosen.append(name) or type("S", (), {"scope": lambda self: Recorder(name)})())
    cli.main(["paper-gan", "--devices", devices])
    assert chosen == [devices] == inside and calls == [("run_paper_gan", ([0],), {})]


def test_an_unknown_device_choice_is_refused(capsys):
    refused(capsys, ["paper-gan", "--devices", "gpu0"], "invalid choice")


@pytest.mark.parametrize("argv, message", [
    (["paper-gan", "--seeds", "4294967296"], "a seed must be in [0, 2**32)"),
    (["paper-gan", "--seeds", "-1"], "a seed must be in [0, 2**32)"),
    (["classifier", "--seeds", "x"], "a seed is an integer"),
    (["paper-gan", "--epochs", "1", "--name", "whatever"], "paper-gan takes no --epochs, --name"),
    (["correction-study", "--seeds", "1"], "correction-study takes no --seeds"),
    (["fast", "--recipe", "batch 64", "--arms", "global, 0.1"], "fast takes no --arms"),
    (["selection", "--seeds", "99"], "selection scores the seeds its runs were trained with, [0, 1, 2]"),
    (["adversary-study", "--seeds", "99"], "adversary-study scores the seeds its runs were trained with, [0, 1]"),
])
def test_bad_arguments_are_refused_before_any_work(capsys, monkeypatch, argv, message):
    forbid_work(monkeypatch)
    refused(capsys, argv, message)


def test_every_command_has_its_options_listed_once():
    assert len(cli.OPTIONS) == len(set(cli.OPTIONS)) and all(isinstance(v, set) for v in cli.OPTIONS.values())


def test_a_full_disk_ends_the_command_with_its_cause_not_a_traceback(monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "no room to write artifacts/paper_gan/seed0/generator.weights.h5")

    monkeypatch.setattr(recipes, "run_paper_gan", full)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["paper-gan"])
    assert "paper-gan: [Errno 28] no room to write artifacts/paper_gan/seed0/generator.weights.h5" in str(exit_info.value.code)


@pytest.mark.parametrize("command", ["ceiling", "mask-head", "time-to-quality", "realistic"])
def test_commands_of_one_run_refuse_several_seeds(capsys, monkeypatch, command):
    forbid_work(monkeypatch)
    refused(capsys, [command, "--seeds", "0", "1"], f"{command} {cli.ONE_SEED[command]}: give one seed")
