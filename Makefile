# Thin wrappers: each target calls one plain command, also written in the README.
PYTHON ?= python3

.PHONY: lab test workshop wheelhouse release benchmarks

lab:        ## create .venv if needed, install, open JupyterLab on lesson 00
	$(PYTHON) -m course lab

test:       ## create .venv if needed, install test extras, run every test
	$(PYTHON) -m course test

workshop:   ## serve the explorers as an offline Voila dashboard for a projector
	$(PYTHON) -m course workshop

.PHONY: hub
hub:        ## JupyterHub for a workshop on this server: a workspace per learner (lossbook hub)
	$(PYTHON) -m course hub

wheelhouse: ## download every wheel into ./wheelhouse for a room without internet
	$(PYTHON) -m course wheelhouse

release:    ## regenerate exercises/ from solutions/
	.venv/bin/python -m lossbook release

benchmarks: ## print the benchmark figures
	.venv/bin/python -m benchmarks
