# Two entry points for a fresh machine (Debian, Python 3.11): `make demo` and `make test`.
# Both create .venv with uv from requirements.lock (hashes pinned) and install huiyan into it.
PYTHON ?= python3
VENV := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup demo test test-spark test-slow test-drills test-wheel test-browser lint bench lock

$(VENV)/.installed: requirements.lock pyproject.toml
	command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	test -d $(VENV) || uv venv -q $(VENV) --python $(PYTHON)
	# Compiled at install: with PYTHONDONTWRITEBYTECODE set (as on these machines) every
	# process would otherwise compile each module it imports (2 s for ibis and pandas).
	VIRTUAL_ENV=$(VENV) uv pip sync -q --compile-bytecode requirements.lock
	VIRTUAL_ENV=$(VENV) uv pip install -q --no-deps -e .
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/huiyan demo

test: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy src
	# Two workers (pytest-xdist), one per core of the reference machine; a test module stays
	# on one worker so its module fixtures (generated regions, pipeline runs) are built once.
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadscope

test-spark: setup
	$(VENV)/bin/python -m pytest -q -m spark

# Every slow suite: the drills below, detection quality on three seeds of both generators,
# the 1,000-encounter real-time parity, the monitor's drift table, the batch = single check of
# every regional scheme (about an hour on 2 cores; not in CI, run before a release).
test-slow: setup
	$(VENV)/bin/python -m pytest -q -m slow

# The reliability drills (CI): 1,200 malformed files, extreme values, reruns, shuffled rows,
# kill -9 and rerun; every table must come out identical.
test-drills: setup
	$(VENV)/bin/python -m pytest -q -m slow tests/drills

# The review loop in headless Chromium (/usr/bin/chromium, Debian package chromium);
# screenshots go to $$HUIYAN_SCREENSHOTS (default test-artifacts/screenshots).
test-browser: setup
	$(VENV)/bin/python -m pytest -q -m browser

# The wheel installed into a fresh venv, run from outside the checkout (about a minute).
test-wheel: setup
	$(VENV)/bin/python -m pytest -q -m wheel tests/install

lint: setup
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

lock:
	uv pip compile -q pyproject.toml --all-extras --generate-hashes -o requirements.lock
