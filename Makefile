# Everything sets itself up: the first run creates .venv and installs the package with its
# test dependencies; `make test` also installs Debian's chromium for the browser test when it
# can (root + apt-get).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lab bench lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

lab: $(STAMP)
	$(PY) scripts/demo.py --lab

test: $(STAMP)
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
