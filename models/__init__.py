"""Keras 3 models, one module per model (``kim_cnn``, ``bag_of_embeddings``, ``bilstm``,
``transformer``). Each module declares ``FAMILY`` (:class:`embedlab.models.family.ModelFamily`): its
name, settings, supported embedding modes (rand, static, non-static, multichannel) and builder.

Importing this package or a model module does not import Keras (so configs validate in
milliseconds); building a model does, and that costs ~2-4 s the first time.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX-512 VNNI/BF16 or AMX; on an
# AVX2-only CPU it falls back to Eigen's kernels, measured 1.5x slower for Kim's CNN (a 300-d MR
# epoch: 19-23 s vs 13-15 s on a 2-core AMD EPYC, docs/PERFORMANCE.md) and numerically another path.
# On, every x86 machine takes the same kernels. Set TF_ENABLE_ONEDNN_OPTS=0 before the import to opt out.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def import_keras_quietly():
    """Imports TensorFlow and Keras with the oneDNN/CUDA start-up banner hidden.

    The banner is printed by C++ before TF's own logging starts, so only redirecting file
    descriptor 2 hides it; whatever the import printed is replayed if the import fails.
    """
    import sys
    import tempfile

    if "keras" in sys.modules:
        return sys.modules["keras"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow

            # Keras re-traces predict functions once per new model; TF warns about that at WARNING.
            tensorflow.get_logger().setLevel("ERROR")
            threads = os.environ.get("EMBEDLAB_TF_THREADS")
            if threads:  # sized before anything starts TF's runtime (the test suite sets it)
                tensorflow.config.threading.set_intra_op_parallelism_threads(int(threads))
                tensorflow.config.threading.set_inter_op_parallelism_threads(int(threads))
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return keras
