"""Tests of lib.shipped: the shipped models by name, one registry, written by the commands that ship."""
import pytest

from lib import artifacts, runs, shipped
from lib.studies import ablation, paper_gan, speed, tradeoff


@pytest.fixture
def artifacts_root(tmp_path, monkeypatch):
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path))
    return tmp_path


def test_a_registered_model_is_found_by_name_under_its_root(artifacts_root):
    shipped.register("paper", paper_gan.run_folder(0))
    shipped.register("book", speed.run_folder(speed.FAST, 2, (runs.QUICK,)), (runs.QUICK,))
    assert shipped.folder("paper") == paper_gan.run_folder(0)
    assert shipped.folder("book", (runs.QUICK,)) == speed.run_folder(speed.FAST, 2, (runs.QUICK,))
    assert artifacts.load_json(shipped.registry()) == {"paper": "paper_gan/seed0"}  # quick runs register apart
    shipped.register("paper", paper_gan.run_folder(1))  # shipping again replaces the entry
    assert shipped.folder("paper") == paper_gan.run_folder(1)


def test_unknown_names_unregistered_models_and_tampered_registries_are_refused(artifacts_root):
    with pytest.raises(ValueError, match="name must be one of"):
        shipped.folder("blurry")
    with pytest.raises(ValueError, match="expected a JSON file"):
        shipped.folder("paper")
    shipped.register("paper", paper_gan.run_folder(0))
    with pytest.raises(ValueError, match="lacks the field 'book'"):
        shipped.folder("book")
    shipped.registry().write_text('{"paper": "../../elsewhere"}')
    with pytest.raises(ValueError, match="differs from its checksum"):
        shipped.folder("paper")
    with pytest.raises(ValueError, match="outside|is not in the subpath|relative"):
        shipped.register("paper", artifacts_root.parent / "elsewhere")


def test_the_committed_registry_agrees_with_the_records_that_chose_each_model():
    """Which run ships is decided by a study's record; the registry names the same folder."""
    record = speed.committed_record()
    assert shipped.folder("book") == speed.run_folder(record["fast"], record["shipped_seed"])
    assert shipped.folder("paper") == paper_gan.run_folder(0)
    assert shipped.folder("recommended") == ablation.run_folder(*ablation.recommended_run())
    assert shipped.folder("realistic") == tradeoff.run_folder(*tradeoff.realistic_run())
    assert set(artifacts.load_json(shipped.registry())) == set(shipped.NAMES)
    for name in shipped.NAMES:
        artifacts.verify_manifest(shipped.folder(name), unlisted=("checkpoint.npz",))


def test_the_shipped_choices_are_verified_before_they_choose_a_model(artifacts_root):
    ablation.recommended_record().parent.mkdir(parents=True)
    artifacts.save_record(ablation.recommended_record(), {"chosen": "+ global context", "epochs": 12})
    artifacts.save_record(tradeoff.realistic_record(), {"arm": "global, 0.1", "epochs": 3, "seed": 0})
    assert ablation.recommended_run() == ("+ global context", 12)
    for path in (ablation.recommended_record(), tradeoff.realistic_record()):
        path.write_text(path.read_text().replace("12", "40").replace('"seed": 0', '"seed": 1'))
    with pytest.raises(ValueError, match="recommended.json differs from its checksum"):
        ablation.recommended_run()
    with pytest.raises(ValueError, match="realistic.json differs from its checksum"):
        tradeoff.realistic_run()
