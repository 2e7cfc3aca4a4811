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
