"""What a process that trains runs keeps from one run to the next: TF's thread pools and op
determinism (process-wide), and memoised vectors and model inputs."""

from __future__ import annotations

from embedlab.models import import_keras_quietly


class WorkerContext:
    """What a process that trains runs keeps from one run to the next (one per worker process).

    TensorFlow's thread pools and op determinism are process-wide, so they are set here, once, for
    all runs of the process; word2vec vectors trained by the suite are memoised here too.

    Attributes:
        threads_ (int | None): TF threads the process runs with, once configured.
        trained_vectors (dict): word2vec vectors trained in this process, by settings.
        text_inputs (dict): inputs of models that read text their own way, by model and dataset.
    """

    def __init__(self):
        self.threads_: int | None = None
        self.trained_vectors: dict = {}
        self.text_inputs: dict = {}

    def configure_threads(self, threads: int) -> None:
        """Sizes TF's intra- and inter-op thread pools before TF starts its runtime.

        The thread count is part of a run's settings because it changes results: TF sums in another
        order with 1 thread than with 2, and over several epochs that can move a prediction. With the
        same count, every executor (local, processes, ray) gives bit-identical runs.
        """
        import warnings

        import_keras_quietly()
        import tensorflow as tf

        if self.threads_ == threads:
            return
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TF already running in this process (e.g. an interactive session)
            current = tf.config.threading.get_intra_op_parallelism_threads()
            if current != threads:
                warnings.warn(f"TensorFlow already runs with {current or 'default'} threads; training.threads="
                              f"{threads} cannot apply in this process, so results may differ in the last "
                              "digits", stacklevel=3)
        self.threads_ = threads

    def seed(self, seed: int, deterministic: bool) -> None:
        """Seeds Python, NumPy and TF, and turns TF's op determinism on or off as the run asks (a
        ``deterministic: false`` run after a deterministic one in the same process really runs with
        it off)."""
        keras = import_keras_quietly()
        from tensorflow.python.framework import config as tf_config

        keras.utils.set_random_seed(seed)
        if deterministic and not tf_config.is_op_determinism_enabled():
            tf_config.enable_op_determinism()
        elif not deterministic and tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()


# This process's context: a worker process trains its runs one after another with it.
WORKER = WorkerContext()
