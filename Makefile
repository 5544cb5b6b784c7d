# One-command set-up and runs. Everything lands in .venv (pip: torch pins install from local disk).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv data test demo bench lint clean fuzz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,ray,jpeg,track]'
	touch $(STAMP)

venv: $(STAMP)

# Debian data packages (Fashion-MNIST, fortunes, wamerican) when root + apt-get are here; else a note
data:
	sh scripts/install-data

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -rs --durations=15

fuzz: $(STAMP)  # every command x a table of bad values (docs/reliability.md)
	$(BIN)/python scripts/fuzz_cli.py -j 2

demo: $(STAMP) data
	$(BIN)/noisyhw demo

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf runs .pytest_cache build
