"""Using kept models: loading a model folder and predicting new text, and exporting a run's model
out of a results folder."""
