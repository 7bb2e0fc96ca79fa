"""Config schema, grid expansion, training, the results store, reports and the CLI."""
