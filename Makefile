# Two commands do all the set-up: `make run` and `make test`.
# They install the exact versions, checked by hash, that the locks in requirements/ name;
# `make lock` rewrites the locks from requirements/*.in (see the README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip install --quiet

# pip-compile lives in a venv of its own, so that it never changes the app's.
LOCK_VENV := $(VENV)/lock-tools
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	--newline=lf $(LOCK_ARGS)

.PHONY: run test demo init-db bench stress clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip and setuptools first (build.txt), then the app's dependencies, then the app itself:
# --no-deps because run.txt already has them all, --no-build-isolation so that the build
# uses the setuptools pinned in build.txt rather than whatever the index serves that day.
$(STAMP): $(BIN)/python pyproject.toml requirements/build.txt requirements/run.txt
	$(PIP) --require-hashes -r requirements/build.txt
	$(PIP) --require-hashes -r requirements/run.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

# test.txt holds everything in run.txt, at the same versions, plus the test tools.
$(TEST_STAMP): $(STAMP) requirements/test.txt
	$(PIP) --require-hashes -r requirements/test.txt
	touch $@

init-db: $(STAMP)
	$(BIN)/flask --app diary init-db

# The web server and, beside it, the sender that delivers alerts (e-mail, webhook) from the outbox.
# Ctrl-C stops both: the shell's EXIT trap stops the sender and waits for it.
run: init-db
	@$(BIN)/flask --app diary send-notifications & sender=$$!; \
	trap 'kill $$sender 2>/dev/null; wait $$sender 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	DIARY_INSECURE_COOKIES=1 $(BIN)/flask --app diary run --host 127.0.0.1 --port 5000

demo: $(STAMP)
	DIARY_INSECURE_COOKIES=1 $(BIN)/python -m diary.web.demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

bench: $(TEST_STAMP)
	$(BIN)/python -m tests.bench

# Robustness figures (fuzz, concurrent writers, kill -9, parallel guesses); PASS/FAIL each.
# `$(BIN)/python -m tests.stress --cycles 10` for a quicker run.
stress: $(TEST_STAMP)
	$(BIN)/python -m tests.stress

$(LOCK_VENV)/bin/pip-compile: requirements/tools.txt
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/tools.txt
	touch $@

# Keeps every pin that still fits its .in file; `make lock LOCK_ARGS=--upgrade` moves all
# pins to the newest fitting releases, `LOCK_ARGS="--upgrade-package flask"` just one.
# test.txt is compiled after run.txt and held to it (test.in says `-c run.txt`).
lock: $(LOCK_VENV)/bin/pip-compile
	$(PIP_COMPILE) -o requirements/build.txt requirements/build.in
	$(PIP_COMPILE) -o requirements/run.txt requirements/run.in
	$(PIP_COMPILE) -o requirements/test.txt requirements/test.in
	$(PIP_COMPILE) -o requirements/tools.txt requirements/tools.in

clean:
	rm -rf $(VENV) build *.egg-info
