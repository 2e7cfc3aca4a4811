"""lib.cli: one subcommand per entry of the studies' command tables, each with its own options,
the run-folder root decided here."""
import dataclasses

import pytest

from lib import classifiers, cli, commands, holes, runs, runtime
from lib.studies import ablation, ceiling, collapse, hole_sizes, selection, speed, speed_settings, tradeoff
from lib.config import ABLATION_EPOCHS, CLASSIFIER, MODE_VARIABLE

from stubs import forbid_work


@pytest.fixture(autouse=True)
def full_mode_artifacts(monkeypatch, tmp_path):
    """An artifacts folder of the test's own, in full mode (the cases switch to quick mode themselves)."""
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path / "artifacts"))
    monkeypatch.setenv(MODE_VARIABLE, "full")
    return tmp_path / "artifacts"


@pytest.fixture
def calls(monkeypatch):
    """Every command's function replaced by a recorder of ``(command, keywords)``."""
    seen = []
    for name, command in cli.COMMANDS.items():
        monkeypatch.setitem(cli.COMMANDS, name, dataclasses.replace(
            command, run=lambda _name=name, **keywords: seen.append((_name, keywords)), report=None))
    return seen


def refused(capsys, argv, message):
    """``main(argv)`` exits with argparse's usage error, saying ``message``."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- the table

def test_every_study_command_is_a_subcommand_once():
    names = [command.name for table in cli.TABLES for command in table.COMMANDS]
    assert len(names) == len(set(names)) == len(cli.COMMANDS)
    assert {"classifier", "paper-gan", "collapse", "ablation", "hole-size-study", "ceiling", "adversary",
            "train-default", "speed-study", "selection", "mask-head", "correction-study"} <= set(names)
    assert all(callable(command.run) and command.help for command in cli.COMMANDS.values())


def test_a_command_is_one_entry_in_its_table(monkeypatch, capsys):
    """Adding a command is one entry: the parser and main pick it up from the table alone."""
    seen = []
    extra = commands.Command("demo", lambda root, seeds: seen.append((root, seeds)) or "done", "a demo",
                             (commands.seeds((4,)),), report=str)
    monkeypatch.setattr(holes, "COMMANDS", (extra,), raising=False)
    monkeypatch.setattr(cli, "TABLES", (*cli.TABLES, holes))
    monkeypatch.setattr(cli, "COMMANDS", {**cli.COMMANDS, "demo": extra})
    cli.main(["demo", "--seeds", "7", "8"])
    assert seen == [((), [7, 8])] and capsys.readouterr().out.strip() == "done"


# ---------------------------------------------------------------- what each command starts

@pytest.mark.parametrize("argv, keywords", [
    (["classifier"], dict(seeds=[0, 1, 2])),
    (["classifier", "--seeds", "0"], dict(seeds=[0])),
    (["paper-gan", "--seeds", "1", "2"], dict(seeds=[1, 2])),
    (["ablation"], dict(seeds=[0], epochs=ABLATION_EPOCHS)),
    (["ablation", "--epochs", "4", "--seeds", "0", "1"], dict(seeds=[0, 1], epochs=4)),
    (["variant", "--name", "+ composite", "--seeds", "2", "3"], dict(name="+ composite", seeds=[2, 3],
                                                                     epochs=ABLATION_EPOCHS)),
    (["variant", "--name", "+ global context + centred holes", "--epochs", "12"],
     dict(name="+ global context + centred holes", seeds=[0], epochs=12)),
    (["speed-study"], dict(seeds=[0, 1], epochs=ABLATION_EPOCHS, name=None)),
    (["collapse", "--recipe", "paper", "--seeds", "0", "1"], dict(recipe_name="paper", seeds=[0, 1],
                                                                  epochs=collapse.DECIDING_EPOCHS)),
    (["collapse-summary"], {}),
    (["ceiling", "--epochs", "10", "--holes", "none", "paper", "12"],
     dict(holes_to_score=["none", "paper", 12], seed=0, epochs=10)),
    (["ceiling", "--seed", "3"], dict(holes_to_score=None, seed=3, epochs=CLASSIFIER.epochs)),
    (["adversary"], dict(arms=None, seeds=list(tradeoff.STUDY_SEEDS), epochs=tradeoff.STUDY_EPOCHS)),
    (["adversary", "--arms", "global, 0.1", "--seeds", "3", "--epochs", "2"],
     dict(arms=["global, 0.1"], seeds=[3], epochs=2)),
    (["realistic", "--arm", "global, 0.3", "--epochs", "4"], dict(arm="global, 0.3", seed=0, epochs=4)),
    (["fast", "--recipe", "batch 64", "--seeds", "0", "1"], dict(recipe_name="batch 64", seeds=[0, 1])),
    (["train-default", "--seeds", "0", "1", "2"], dict(seeds=[0, 1, 2])),
    (["time-to-quality"], dict(seed=0)),
    (["hole-size-study", "--methods", "book"], dict(methods=["book"])),
    (["candidates", "--recipes", speed.FAST], dict(names=[speed.FAST], seeds=list(selection.SEEDS))),
    (["mask-head", "--epochs", "3"], dict(seed=0, epochs=3)),
])
def test_main_starts_the_command_asked_for_with_its_options_and_the_mode_root(calls, monkeypatch, argv, keywords):
    cli.main(argv)
    assert calls == [(argv[0], {**keywords, "root": ()})]
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    cli.main(argv)
    assert calls[-1] == (argv[0], {**keywords, "root": (runs.QUICK,)})


@pytest.mark.parametrize("argv, keywords", [
    (["--dataset", "fashion_mnist", "classifier", "--seeds", "1"], dict(seeds=[1])),
    (["--dataset", "fashion_mnist", "paper-gan"], dict(seeds=[0])),
    (["--dataset", "fashion_mnist", "fast", "--recipe", "batch 64"], dict(recipe_name="batch 64", seeds=[0])),
    (["--dataset", "fashion_mnist", "collapse", "--recipe", "paper", "--seeds", "3", "4"],
     dict(recipe_name="paper", seeds=[3, 4], epochs=2)),
    (["--dataset", "fashion_mnist", "train-default", "--seeds", "0", "2"], dict(seeds=[0, 2])),
    (["--dataset", "fashion_mnist", "beyond-digits"], dict()),
])
def test_another_dataset_is_one_argument_and_its_runs_go_under_its_folder(calls, monkeypatch, argv, keywords):
    cli.main(argv)
    assert calls == [(argv[2], {**keywords, "root": ("fashion_mnist",)})]
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    cli.main(argv)
    assert calls[-1] == (argv[2], {**keywords, "root": (runs.QUICK, "fashion_mnist")})


@pytest.mark.parametrize("command", ["hole-size-study", "ablation", "seed-scores", "selection"])
def test_a_command_measured_on_mnist_only_refuses_another_dataset(capsys, calls, command):
    refused(capsys, ["--dataset", "fashion_mnist", command], f"{command} runs on mnist only so far, not fashion_mnist")
    assert calls == []


def test_the_study_of_another_dataset_refuses_mnist(capsys, calls):
    refused(capsys, ["beyond-digits"], "beyond-digits runs on fashion_mnist only so far, not mnist")
    assert calls == []


def test_main_prints_the_commands_report(monkeypatch, capsys):
    command = cli.COMMANDS["hole-size-study"]
    monkeypatch.setitem(cli.COMMANDS, "hole-size-study", dataclasses.replace(
        command, run=lambda root, methods: {"wall_seconds": 1.5}))
    cli.main(["hole-size-study"])
    assert capsys.readouterr().out.strip() == "1.5 s"


# ---------------------------------------------------------------- what it refuses

@pytest.mark.parametrize("argv, message", [
    (["everything"], "invalid choice: 'everything'"),
    (["ceiling", "--holes", "huge"], "a hole is a centre size in 1..28 pixels or one of ['paper', 'strokes', 'none'], got 'huge'"),
    (["ceiling", "--holes", "0"], "a hole is a centre size in 1..28 pixels or one of ['paper', 'strokes', 'none'], got 0"),
    (["ceiling", "--epochs", "0"], "must be >= 1"),
    (["ceiling", "--seeds", "0", "1"], "unrecognized arguments: --seeds"),
    (["variant"], "the following arguments are required: --name"),
    (["variant", "--name", "nonsense"], "unknown variant 'nonsense'"),
    (["variant", "--name", "+ composite", "--holes", "8"], "unrecognized arguments: --holes"),
    (["collapse"], "the following arguments are required: --recipe"),
    (["collapse", "--recipe", "magic"], "invalid choice: 'magic'"),
    (["collapse", "--recipe", "paper", "--epochs", "-1"], "must be >= 1"),
    (["paper-gan", "--recipe", "paper"], "unrecognized arguments: --recipe"),
    (["adversary", "--arms", "global, 7"], "invalid choice: 'global, 7'"),
    (["realistic", "--arm", "global, 0.3", "global, 0.1"], "unrecognized arguments"),
    (["realistic", "--seeds", "0", "1"], "unrecognized arguments: --seeds"),
    (["mask-head", "--seeds", "0", "1"], "unrecognized arguments: --seeds"),
    (["time-to-quality", "--seeds", "0", "1"], "unrecognized arguments: --seeds"),
    (["fast"], "the following arguments are required: --recipe"),
    (["train-default", "--seeds", "7"], "invalid choice: 7"),
    (["selection", "--seeds", "99"], "invalid choice: 99"),
    (["adversary-study", "--seeds", "99"], "invalid choice: 99"),
    (["paper-gan", "--seeds", "4294967296"], "a seed must be in [0, 2**32)"),
    (["paper-gan", "--seeds", "-1"], "a seed must be in [0, 2**32)"),
    (["classifier", "--seeds", "x"], "a seed is an integer"),
    (["correction-study", "--seeds", "1"], "unrecognized arguments: --seeds"),
    (["--devices", "gpu0", "paper-gan"], "invalid choice: 'gpu0'"),
    (["--dataset", "cifar10", "classifier"], "invalid choice: 'cifar10'"),
])
def test_bad_arguments_are_refused_before_any_work(capsys, monkeypatch, calls, argv, message):
    forbid_work(monkeypatch)
    refused(capsys, argv, message)
    assert calls == []


@pytest.mark.parametrize("devices", ["one", "all"])
def test_devices_choose_the_strategy_the_command_runs_under(calls, monkeypatch, devices):
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
    cli.main(["--devices", devices, "paper-gan"])
    assert chosen == [devices] == inside and calls == [("paper-gan", {"seeds": [0], "root": ()})]


def test_a_full_disk_ends_the_command_with_its_cause_not_a_traceback(monkeypatch):
    def full(**keywords):
        raise OSError(28, "no room to write artifacts/paper_gan/seed0/generator.weights.h5")

    monkeypatch.setitem(cli.COMMANDS, "paper-gan", dataclasses.replace(cli.COMMANDS["paper-gan"], run=full))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["paper-gan"])
    assert "paper-gan: [Errno 28] no room to write artifacts/paper_gan/seed0/generator.weights.h5" in str(exit_info.value.code)


def test_the_commands_functions_take_the_options_their_parsers_give(monkeypatch):
    """Each command's function accepts ``root`` and every option of its parser, by name."""
    import inspect

    parser = cli.parser()
    for name, command in cli.COMMANDS.items():
        keywords = vars(parser.parse_args([name, *{"variant": ["--name", "+ composite"], "collapse": ["--recipe", "paper"],
                                                     "fast": ["--recipe", "batch 64"]}.get(name, [])]))
        keywords = {key: value for key, value in keywords.items() if key not in ("command", "devices", "dataset")}
        inspect.signature(command.run).bind(root=(), **keywords)  # raises TypeError if one does not fit


def test_module_functions_are_the_tables(monkeypatch):
    assert cli.COMMANDS["hole-size-study"].run is hole_sizes.run_hole_size_study
    assert cli.COMMANDS["ceiling"].run is ceiling.run_ceiling
    assert cli.COMMANDS["speed-study"].run is speed_settings.run_speed_study
    assert cli.COMMANDS["ablation"].run is ablation.run_ablation
    assert cli.COMMANDS["classifier"].run is classifiers.run_classifiers
