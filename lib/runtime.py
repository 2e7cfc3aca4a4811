"""TensorFlow and Keras, started quietly. Every module that needs them imports this one first.

TensorFlow 2.2x prints start-up lines (oneDNN, CUDA stubs) through absl before its logging is
initialised, ignoring TF_CPP_MIN_LOG_LEVEL. In a notebook they become stderr outputs that
differ on every run and break nbval, so the runtime is started once with the C-level stderr
silenced. Python exceptions are unaffected. `lib.config` and `lib.analysis` never import this
module: they work without TensorFlow.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _start_quietly():
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
        import tensorflow

        tensorflow.constant(1) + 1
        list(tensorflow.data.Dataset.range(1))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_start_quietly()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402



class _NoRetracingWarning:
    """Predicting with several models in turn (three classifiers, then a generator) makes
    TensorFlow warn that a function "triggered tf.function retracing": each model traces its own
    predict function once, as expected, and the warning would land in chapters as stray output."""

    @staticmethod
    def filter(record):
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_NoRetracingWarning())

__all__ = ["keras", "tf"]


# ---------------------------------------------------------------- devices and precision

# NVIDIA GPUs compute in bfloat16 natively from compute capability 8.0 (Ampere) on; a T4, Colab's
# free GPU, is 7.5. CPUs always can (natively with AVX512_BF16 or AMX, else emulated, slower).
BFLOAT16_COMPUTE_CAPABILITY = (8, 0)
_said = set()


def gpu_descriptions():
    """Each visible GPU as TensorFlow describes it (``device_name``, ``compute_capability``)."""
    return [tf.config.experimental.get_device_details(gpu) for gpu in tf.config.list_physical_devices("GPU")]


def mixed_precision_policy(gpus=None) -> str:
    """The Keras dtype policy for a configuration that asks for mixed precision: bfloat16
    computation with float32 weights (``"mixed_bfloat16"``), unless a GPU that would train lacks
    bfloat16, where it is ``"float32"`` (a reader who trains on Colab's free T4 gets a precision
    the device supports) and says so once. ``gpus``: descriptions as `gpu_descriptions` gives
    them (default: this machine's)."""
    gpus = gpu_descriptions() if gpus is None else gpus
    if not isinstance(gpus, (list, tuple)) or not all(isinstance(gpu, dict) for gpu in gpus):
        raise ValueError(f"gpus must be a list of device descriptions (dicts), got {gpus!r}")
    lacking = [gpu for gpu in gpus if tuple(gpu.get("compute_capability") or (0, 0)) < BFLOAT16_COMPUTE_CAPABILITY]
    if not lacking:
        return "mixed_bfloat16"
    names = ", ".join(f"{gpu.get('device_name', 'a GPU')} (compute capability "
                      f"{'.'.join(map(str, gpu.get('compute_capability') or ('unknown',)))})" for gpu in lacking)
    message = f"{names} has no bfloat16: training in float32 instead of mixed bfloat16 (the same model, slower)"
    if message not in _said:
        _said.add(message)
        print(message)
    return "float32"


DEVICES = ("one", "all")


def device_strategy(devices: str = "one"):
    """Where training runs: ``"one"`` device (TensorFlow's default strategy), or ``"all"`` visible
    GPUs under `tf.distribute.MirroredStrategy`, which trains the same model as one device (the
    global batch split between them; `tests/test_gan.py` checks the parity). Enter its
    ``scope()`` around building and fitting."""
    if devices not in DEVICES:
        raise ValueError(f"devices must be one of {DEVICES}, got {devices!r}")
    gpus = tf.config.list_logical_devices("GPU")
    if devices == "one" or len(gpus) < 2:
        if devices == "all":
            print(f"{len(gpus) or 'no'} GPU{'' if len(gpus) == 1 else 's'} visible: training on one device")
        return tf.distribute.get_strategy()
    strategy = tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    print(f"training on {strategy.num_replicas_in_sync} GPUs (MirroredStrategy)")
    return strategy
