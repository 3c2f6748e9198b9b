# The collection's commands. Each installs what it needs first (tests/setup.sh), so they work
# as written on a fresh Debian machine as root.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
LAB := -i inventories/lab

.PHONY: help setup lab lab-destroy test benchmark
help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: ## install the Debian packages, Docker engine and Python tools the commands need
	@tests/setup.sh

lab: setup ## start the lab (primary, standby, app1, nas) and apply playbooks/site.yml to it over SSH
	ansible-playbook $(LAB) tests/lab/up.yml
	ansible-playbook $(LAB) playbooks/site.yml
	@echo "The lab is up: reach each host with the ssh command above; remove it with: make lab-destroy"

lab-destroy: setup ## remove the lab's containers and network (the images stay cached)
	ansible-playbook $(LAB) tests/lab/down.yml

test: ## run every check: lint, sanity, unit tests, molecule scenarios, the lab end to end
	@tests/run.sh

benchmark: setup ## measure site.yml on the lab (converge, no-change runs), failover times, tenant creation, object replication, backups' RPO and restore time
	@tests/benchmark/lab.sh
	@tests/benchmark/postgresql.sh
	@tests/benchmark/redis.sh
	@tests/benchmark/minio.sh
	@tests/benchmark/backup.sh
