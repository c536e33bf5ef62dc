# Everything sets itself up: the first run creates .venv and installs the package with its
# test dependencies; `make test` also installs Debian's chromium for the browser test when it
# can (root + apt-get).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A second environment with ipykernel 6, where the kernel, notebook and browser tests run again.
IK6 := .venv-ipykernel6
IK6_STAMP := $(IK6)/.installed

.PHONY: demo test lab bench lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(IK6_STAMP): pyproject.toml
	python3 -m venv $(IK6)
	$(IK6)/bin/python -m pip install -q --upgrade pip
	$(IK6)/bin/python -m pip install -q -e '.[dev]' 'ipykernel>=6.29,<7'
	$(IK6)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(IK6_STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

lab: $(STAMP)
	$(PY) scripts/demo.py --lab

test: $(STAMP) $(IK6_STAMP)
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)
	@echo "== the kernel, notebook and browser tests again on ipykernel 6"
	$(IK6)/bin/python -m pytest -p no:cacheprovider -m "kernel or e2e" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(IK6) build .pytest_cache .ruff_cache
