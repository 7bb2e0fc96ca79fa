"""Compatibility with what older releases wrote, in one place: settings added since run ids were
first recorded (and the value that reproduces the old behaviour, so old runs keep their ids), and
the flat ``model:`` section of releases 0.1-0.2."""

from __future__ import annotations

from typing import Any


# Settings added since run ids were first recorded (v0.1), with the value that gives v0.1's behaviour.
LEGACY_VALUES: dict[tuple[str, str], Any] = {
    ("training", "batching"): "fixed",
    ("training", "precision"): "float32",
    ("data", "vocabulary"): "train",
    ("data", "padding"): "end",
    ("data", "unknown_init"): "kim",
    ("data", "rescale"): "none",
    ("data", "training_examples"): "sentences",
}
# v0.1 hashed model.embedding_dim = 300 for every run (rand took the vectors' width whenever vectors
# were set); null means exactly that today.
LEGACY_EMBEDDING_DIM = 300

# The model keys of releases 0.1-0.2, when every model shared one CNN-shaped section.
_FLAT_MODEL_KEYS = {"filter_sizes": ("cnn",), "num_filters": ("cnn",), "dropout": ("cnn", "boe"),
                    "max_norm": ("cnn", "boe")}


def move_flat_model_keys(raw: dict) -> dict:
    """A snapshot of releases 0.1-0.2, whose one flat ``model:`` section meant the CNN's settings
    (and, for dropout and max-norm, the bag of embeddings'), with those keys moved into the model
    sections they meant, which keeps their run ids."""
    model = dict(raw.get("model") or {})
    for key, families_of_key in _FLAT_MODEL_KEYS.items():
        if key in model:
            value = model.pop(key)
            for family in families_of_key:
                model.setdefault(family, {})[key] = value
    return {**raw, "model": model}


def flat_model_keys_error(section: Any) -> str | None:
    """What to say when a config (not a snapshot) still writes the flat keys of releases 0.1-0.2."""
    moved = [k for k in _FLAT_MODEL_KEYS if isinstance(section, dict) and k in section]
    if not moved:
        return None
    return (f"{', '.join(moved)}: since release 0.3 each model has its own section; write them as "
            f"model.cnn.{moved[0]} (dropout and max_norm: under each model that should use them, e.g. "
            "model.cnn.dropout)")
