# Everything a fresh machine needs: `make demo` and `make test` create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint audit sandbox browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the CPU wheel (torch==2.13.0 in pyproject.toml); an open range would pull CUDA.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP) $@

# bubblewrap isolates student kernels; install it when we can, else the grader says what to do.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing bubblewrap (the kernel sandbox)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null \
	      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }; \
	  else \
	    echo "bubblewrap is missing: install it (sudo apt-get install bubblewrap) to sandbox student code"; \
	  fi; }

# Chromium drives the report-page tests; they are skipped with a message when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (for the report-page tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	  fi; }

demo: $(STAMP) sandbox
	$(BIN)/grader grade examples --out out
	@echo "Class overview: $(CURDIR)/out/index.html"

# ruff is pinned in the test extras, so every machine lints alike.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .

# Every pack's checks attacked with wrong answers made from its model solution (README).
audit: $(TEST_STAMP) sandbox
	$(BIN)/grader audit conv-layer > /dev/null 2>&1 || $(BIN)/grader audit conv-layer
	GRADER_PACKS=tests/packs $(BIN)/grader audit tiny > /dev/null 2>&1 || GRADER_PACKS=tests/packs $(BIN)/grader audit tiny

test: lint sandbox browser audit
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out
