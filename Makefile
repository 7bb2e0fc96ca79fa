# embedlab: `make run` (set up + run the quickstart config + print the table), `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= configs/quickstart.yaml

.PHONY: setup run test test-fast clean

setup: $(VENV)/.installed

# Re-installs only when the dependency declarations change. requirements.lock pins every package
# (it is a constraints file, so the project itself is still installed from this checkout).
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c requirements.lock -e '.[test]'
	touch $@

run: setup
	$(BIN)/embedlab run $(CONFIG)

test: setup
	$(BIN)/python -m pytest -q

# The inner loop: no training, no network, well under a minute.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) results .pytest_cache
