# The mower stack: `make demo` and `make test` work on a fresh machine (they install what they
# need into .venv from the pinned requirements.txt and the packages under src/).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install
PKGS   := src/mower_description src/mower_maps src/mower_node_kit src/mower_coverage src/mower_sim \
          src/mower_segmentation src/mower_perception src/mower_mapping src/mower_control \
          src/mower_integrations src/mower_app src/mower_bringup src/mower_offline src/mower_cli
# Debian packages: headless rendering (MuJoCo through EGL / Mesa); mosquitto, the MQTT broker
# the Home Assistant tests start on a loopback port (its service is not needed); openssl, their
# test certificates (TLS); chromium, the browser the app's tests drive (headless)
SYSTEM_PKGS := libegl1 libegl-mesa0 libgl1-mesa-dri mosquitto openssl chromium
export MUJOCO_GL ?= egl
PKG_FILES := $(foreach p,$(PKGS),$(p)/setup.py $(p)/package.xml)

.PHONY: all install train-deps demo test lint bench clean web

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-system: Makefile | $(BIN)/python
	@missing=$$(for p in $(SYSTEM_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	touch $@

$(STAMP): requirements.txt $(PKG_FILES) $(VENV)/.stamp-system | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--no-build-isolation $(foreach p,$(PKGS),-e $(p))
	touch $(STAMP)

install: $(STAMP)

# PyTorch for training only (never a runtime dependency); `make test` installs it too, so that
# the fine-tuning tests (mower segment adapt end to end on a tiny model, train, shift-bias)
# run in CI instead of being skipped
TRAIN_STAMP := $(VENV)/.stamp-train
$(TRAIN_STAMP): requirements-train.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-train.txt
	touch $@

train-deps: $(TRAIN_STAMP)

demo: $(STAMP)
	$(BIN)/mower sim maps/demo_lawn.geojson --out out/demo
	@echo "Report: out/demo/report.png (picture), out/demo/report.json (figures), out/demo/bag (rosbag2 MCAP: ros2 bag play out/demo/bag, or open it in Foxglove)"

# Gates: ruff; mypy and ruff's complexity rule (C901) against baselines that may only shrink
# (tools/mypy_baseline.json, tools/complexity_baseline.json; `--update` locks in a lower count).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python tools/typecheck.py
	$(BIN)/python tools/complexity.py
	$(BIN)/ruff format --check .

test: $(STAMP) $(TRAIN_STAMP) lint
	$(BIN)/python -m pytest --durations=15

bench: $(STAMP)
	$(BIN)/mower bench plan --fields ../shared/data/fields2cover-fields
	$(BIN)/mower bench transit
	$(BIN)/mower bench discover --gardens 2
	$(BIN)/mower bench sim
	$(BIN)/mower bench large --field ../shared/data/fields2cover-fields/test.json
	$(BIN)/mower segment bench
	$(BIN)/mower segment eval --real-only
	$(BIN)/mower bench map
	$(BIN)/mower bench control
	$(BIN)/mower bench replay
	$(BIN)/mower bench app

# The app's front-end packages, rebuilt from web/package-lock.json into the vendored copy the
# robot serves (src/mower_app/mower_app/static/vendor, committed; needs node and npm)
web:
	cd web && npm ci --ignore-scripts --no-audit --no-fund && node build.mjs

clean:
	rm -rf out .pytest_cache .ruff_cache .mypy_cache .hypothesis
