# Two commands do everything on a fresh machine (Python 3.11 needed):
#   make demo   set up .venv, then validate a bundled scenario, run it as a sim trial and print the report
#   make test   set up .venv, then lint, type-check and run the test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_SCENARIO ?= ulsan-door-bolts
DEMO_SITE ?= ulsan-door-assembly
IFACE := interfaces/humanoid_trials_interfaces
IFACE_SOURCES := $(wildcard $(IFACE)/msg/*.msg $(IFACE)/srv/*.srv $(IFACE)/action/*.action) $(IFACE)/CMakeLists.txt \
                 $(IFACE)/package.xml $(IFACE)/pyproject.toml

.PHONY: demo test install lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-build.txt requirements-dev.txt setup.py package.xml $(IFACE_SOURCES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@echo "building the ROS 2 interface package (about a minute)…"
	AMENT_PREFIX_PATH=$(abspath $(VENV)) $(BIN)/python -m pip install -q --disable-pip-version-check \
	    --no-build-isolation ./$(IFACE)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

demo: install
	$(BIN)/humanoid-trials check sim/robots sites tasks/scenarios
	$(BIN)/humanoid-trials validate $(DEMO_SCENARIO)
	$(BIN)/humanoid-trials run $(DEMO_SCENARIO) --sim --time-scale 20
	$(BIN)/humanoid-trials report --site $(DEMO_SITE)

lint: install
	$(BIN)/ruff check humanoid_trials tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/store_bench.py
	$(BIN)/python bench/dispatch_bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
