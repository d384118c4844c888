# Everything a fresh machine needs: `make demo` and `make test` create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
KERNEL_STAMP := $(VENV)/.installed-kernel
# The course's kernel packages. d2l pins ancient numpy/pandas/matplotlib and pulls jupyter, so it
# goes in without its dependencies (they are the `course` extra); torchvision is the release made
# for torch 2.13.0, also without dependencies (with them, pip could fetch a CUDA torch).
COURSE_WHEELS := torchvision==0.28.0 d2l==1.0.3

.PHONY: demo test lint audit sandbox browser clean kernel-env

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the CPU wheel (torch==2.13.0 in pyproject.toml); an open range would pull CUDA.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[course]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[course,test]'
	touch $(STAMP) $@

# The student kernel's environment (it runs this venv): d2l, torchvision and the shim that lets
# PyPI's CUDA-built torchvision import beside the CPU torch. Works offline from a local index.
$(KERNEL_STAMP): $(STAMP) grader/shims/torchvision_cpu_shim.py
	$(BIN)/pip install --quiet --no-deps $(COURSE_WHEELS)
	$(BIN)/python -m grader.environment install
	$(BIN)/python -m grader.environment check
	touch $@

kernel-env: $(KERNEL_STAMP)

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

demo: $(KERNEL_STAMP) sandbox
	$(BIN)/grader grade examples --out out
	@echo "Class overview: $(CURDIR)/out/index.html"

# ruff is pinned in the test extras, so every machine lints alike.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .

# Every pack's checks attacked with wrong answers made from its model solution (README); the
# test suite runs the same audits (tests/test_audit.py).
audit: $(TEST_STAMP) $(KERNEL_STAMP) sandbox
	$(BIN)/grader audit conv-layer > /dev/null 2>&1 || $(BIN)/grader audit conv-layer
	GRADER_PACKS=tests/packs $(BIN)/grader audit tiny > /dev/null 2>&1 || GRADER_PACKS=tests/packs $(BIN)/grader audit tiny

test: lint sandbox browser $(KERNEL_STAMP)
	$(BIN)/python -m pytest -q -n 4 --dist loadfile

clean:
	rm -rf $(VENV) out
