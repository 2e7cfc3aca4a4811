"""lib.runtime: TensorFlow started quietly, the precision a device supports, the devices to train on."""
import pytest

from lib import runtime

T4 = {"device_name": "Tesla T4", "compute_capability": (7, 5)}
A100 = {"device_name": "NVIDIA A100-SXM4-40GB", "compute_capability": (8, 0)}


@pytest.fixture(autouse=True)
def fresh_messages(monkeypatch):
    monkeypatch.setattr(runtime, "_said", set())


def test_mixed_precision_is_bfloat16_on_a_cpu_and_on_a_gpu_that_has_it(capsys):
    assert runtime.mixed_precision_policy([]) == "mixed_bfloat16"
    assert runtime.mixed_precision_policy([A100]) == "mixed_bfloat16"
    assert capsys.readouterr().out == ""


def test_a_gpu_without_bfloat16_trains_in_float32_and_says_so_once(capsys):
    assert runtime.mixed_precision_policy([T4]) == "float32"
    assert runtime.mixed_precision_policy([T4]) == "float32"
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == ["Tesla T4 (compute capability 7.5) has no bfloat16: training in float32 instead of mixed "
                       "bfloat16 (the same model, slower)"]


def test_one_gpu_without_bfloat16_among_several_decides(capsys):
    assert runtime.mixed_precision_policy([A100, T4]) == "float32"


def test_a_mixed_precision_configuration_builds_in_the_chosen_precision(monkeypatch):
    from lib import models
    from lib.config import PAPER

    config = PAPER.variant("mixed", mixed_precision=True)
    monkeypatch.setattr(runtime, "gpu_descriptions", lambda: [])  # a CPU, whatever this machine has
    assert models.build_generator(config).layers[1].dtype_policy.name == "mixed_bfloat16"
    monkeypatch.setattr(runtime, "gpu_descriptions", lambda: [T4])
    assert models.build_generator(config).layers[1].dtype_policy.name == "float32"


@pytest.mark.parametrize("bad", ["T4", [("Tesla T4", (7, 5))]])
def test_device_descriptions_must_be_dicts(bad):
    with pytest.raises(ValueError, match="device descriptions"):
        runtime.mixed_precision_policy(bad)


def test_one_device_and_all_devices_without_gpus_train_on_the_default_strategy(capsys, monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(runtime.tf.config, "list_logical_devices", lambda kind=None: [])  # no GPU, whatever is here
    assert runtime.device_strategy("one") is tf.distribute.get_strategy()
    assert runtime.device_strategy("all").num_replicas_in_sync == 1
    assert "training on one device" in capsys.readouterr().out


def test_an_unknown_device_choice_is_refused():
    with pytest.raises(ValueError, match="devices must be one of"):
        runtime.device_strategy("gpu")
