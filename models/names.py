"""Model and embedding-mode names, importable without Keras (config validation uses them)."""

EMBEDDING_MODES = ("rand", "static", "non-static", "multichannel")
MODEL_NAMES = ("cnn", "boe")
# Embedding modes a model supports; the bag of embeddings has no channels to combine.
SUPPORTED_MODES = {"cnn": EMBEDDING_MODES, "boe": ("rand", "static", "non-static")}
