"""Tests of lib.records: a study's record, checked against its protocol and saved as it grows."""
import pytest

from lib import artifacts, records


def test_a_record_resumes_only_under_the_same_protocol_and_is_saved_as_it_grows(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "machine_description", lambda: {"cpu": "test"})
    path = tmp_path / "study.json"
    record = records.Record(path, {"digits": 10, "holes": ("paper", 14)})
    record["scores"] = {"telea": 0.9}
    record.save()
    assert artifacts.load_json(path) == {"protocol": {"digits": 10, "holes": ["paper", 14]}, "scores": {"telea": 0.9}}
    again = records.Record(path, {"digits": 10, "holes": ["paper", 14]})  # tuples and lists read back alike
    assert again["scores"] == {"telea": 0.9}
    closed = again.close()
    assert closed["machine"] == {"cpu": "test"} and closed["wall_seconds"] >= 0
    with pytest.raises(ValueError, match="scored with another protocol .*delete it to score afresh"):
        records.Record(path, {"digits": 20, "holes": ["paper", 14]})


def test_a_record_without_a_protocol_is_scored_afresh_and_keeps_its_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "machine_description", lambda: {"cpu": "test"})
    path = tmp_path / "table.json"
    artifacts.save_json(path, {"rows": [1]})
    record = records.Record(path)
    assert dict(record) == {}
    record.update(rows=[2])
    assert artifacts.load_json(record.close().path) == {"rows": [2], "wall_seconds": record["wall_seconds"],
                                                        "machine": {"cpu": "test"}}
    assert records.seconds(record).endswith(" s")


def test_by_hole_rejects_a_record_that_is_not_scored_hole_by_hole():
    record = {"by_hole": {"12x12 centre": {"telea": {}}}, "holes": ["12x12 centre"], "methods": ["telea", "grey"]}
    with pytest.raises(ValueError, match="no by_hole entry for 'grey'"):
        records.by_hole(record)
    with pytest.raises(ValueError, match="'cross_check', 'holes' and 'methods'"):
        records.by_hole(record, "cross_check")
    with pytest.raises(ValueError, match="part must be"):
        records.by_hole(record, "realism")
