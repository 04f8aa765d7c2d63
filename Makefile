# The two commands: `make run` (the whole portal on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PORT ?= 8000
# For `make run`: links in e-mails and the printed address follow PORT, unless SITE_URL is
# set in the environment.
run demo: export SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install migrate demo demo-codes lint format clean translations

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# The Spanish catalogue, compiled from the .po kept in the repository whenever it changes.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

%.mo: %.po $(INSTALLED)
	$(BIN)/python -m config.translations --stale

translations: $(MO_FILES)

install: $(INSTALLED) translations

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

demo-codes: install
	@$(BIN)/python manage.py load_demo --codes

# Web server, Celery worker and beat together; Ctrl-C stops all of them.
run: demo
	@echo ""
	@echo "Starting the portal at http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"
	@PORTAL_PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var
