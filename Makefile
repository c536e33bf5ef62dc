# Everything sets itself up: the first run creates .venv and installs the package with its
# test dependencies; `make test` also installs Debian's chromium for the browser test when it
# can (root + apt-get).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A second environment with ipykernel 6, where the kernel, notebook and browser tests run again.
IK6 := .venv-ipykernel6
IK6_STAMP := $(IK6)/.installed
# pytest-xdist workers (the machine has 2 cores; `make test JOBS=0` runs in one process).
JOBS ?= auto

.PHONY: demo test lab bench lint clean smoke

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# It reuses .venv's packages instead of installing them all again: a .pth file adds .venv's
# site-packages (with its own .pth files: the editable install) *after* this environment's,
# so only ipykernel 6 lives here and shadows .venv's ipykernel 7 (3 s instead of 30 s or more).
# Jupyter's data files (lab extensions, nbconvert templates) are linked; the kernel spec is
# this environment's own, so kernels started from here run ipykernel 6.
$(IK6_STAMP): $(STAMP)
	rm -rf $(IK6)
	python3 -m venv $(IK6)
	echo "import site; site.addsitedir('$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')')" \
	  > "$$($(IK6)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/_reuse_main_venv.pth"
	$(IK6)/bin/python -m pip install -q --no-deps 'ipykernel>=6.29,<7'
	$(IK6)/bin/python -m pip check
	$(IK6)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	for d in lab labextensions nbconvert nbextensions; do \
	  ln -sfn "$(abspath $(VENV))/share/jupyter/$$d" "$(IK6)/share/jupyter/$$d"; done
	touch $(IK6_STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

lab: $(STAMP)
	$(PY) scripts/demo.py --lab

test: $(STAMP) $(IK6_STAMP)
	bash scripts/ensure-chromium.sh
	@# The tests read tests/reference (vendored); where the shared reference sits beside the
	@# clone, the copy must be in step with it (scripts/sync_reference.py updates it).
	@if [ -d ../shared/reference ]; then $(PY) scripts/sync_reference.py --check; \
	else echo "no ../shared/reference beside the clone: tests use the vendored tests/reference"; fi
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/deptry .
	@echo "== a plain 'pip install' (no extras) in a fresh venv runs the smoke path"
	bash scripts/smoke-install.sh
	$(PY) -m pytest -n $(JOBS) $(PYTEST_ARGS)
	@echo "== the kernel, notebook and browser tests again on ipykernel 6"
	$(IK6)/bin/python -m pytest -p no:cacheprovider -m "kernel or e2e" $(PYTEST_ARGS)

smoke:
	bash scripts/smoke-install.sh

bench: $(STAMP)
	$(PY) bench/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(IK6) build .pytest_cache .ruff_cache

# Mutation testing of the core (wire, http, errors, engine, safe Markdown; the list is
# [tool.mutmut] in pyproject.toml), against the fast tests only.  Slow: not part of `make test`
# or CI.  Results are cached in mutants/ (delete it for a fresh run).  Kill rate = detected /
# (detected + undetected): timeouts and crashes count as detected, "no tests" as undetected.
MUTMUT := $(VENV)/bin/mutmut
# Each mutant's tests run fastest first (tests/mutmut_order.py says why); two workers.
MUTANTS_RUN := PYTEST_PLUGINS=tests.mutmut_order $(MUTMUT) run --max-children 2
define MUTANTS_REPORT
import json, subprocess, sys
s = json.load(open("mutants/mutmut-cicd-stats.json"))
detected = s["killed"] + s["timeout"] + s["segfault"]
undetected = s["survived"] + s["no_tests"] + s["suspicious"]
print(f"mutants: {s['total']}  killed: {s['killed']}  timeout: {s['timeout']}  "
      f"crashed: {s['segfault']}  survived: {s['survived']}  no tests: {s['no_tests']}  "
      f"suspicious: {s['suspicious']}  skipped: {s['skipped']}")
print(f"kill rate: {100 * detected / max(1, detected + undetected):.1f}% "
      f"({detected}/{detected + undetected}; timeouts and crashes count as killed)")
out = subprocess.run([sys.argv[1], "results"], capture_output=True, text=True).stdout
left = [line.strip() for line in out.splitlines() if line.strip()]
print(f"not killed ({len(left)}):" if left else "not killed: none")
print("\n".join("  " + line for line in left))
endef
export MUTANTS_REPORT

.PHONY: mutants
mutants:
	@test -x $(PY) || $(MAKE) $(STAMP)
	@test -x $(MUTMUT) || $(PY) -m pip install -q 'mutmut>=3.3'
	@# Verdicts are cached in mutants/; re-test earlier survivors first (tests may be new).
	@left=$$($(MUTMUT) results 2>/dev/null | sed -n 's/^ *\([^ ]*\): \(survived\|no tests\)$$/\1/p'); \
	if [ -n "$$left" ]; then $(MUTANTS_RUN) $$left; fi
	$(MUTANTS_RUN)
	@$(MUTMUT) export-cicd-stats >/dev/null
	@$(PY) -c "$$MUTANTS_REPORT" $(MUTMUT)
