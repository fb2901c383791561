# The two commands: `make run` (set up and serve the app with demo data) and `make test`.
SHELL := /bin/bash
# Python 3.12 or newer: the first that answers, including pyenv's installed versions.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3) python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_LEADS ?= 2000

.PHONY: run test setup install migrate demo lint check-python clean

check-python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (Django 6). Install it and run make again."; exit 1; }

$(BIN)/activate: requirements.txt | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

install: $(BIN)/activate

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo --leads $(DEMO_LEADS)

run: demo
	@echo
	@echo "  CRM is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins (password: demo-pass-123):"
	@echo "    admin@example.com       admin"
	@echo "    manager@example.com     manager"
	@echo "    counsellor@example.com  sales (counsellor)"
	@echo "  Ctrl-C stops the web server, the worker and the embedded Redis."
	@echo
	@# honcho gives each process its own PORT (PORT, PORT+100, ...): the web server reads WEB_PORT instead.
	WEB_PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
