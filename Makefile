# The two quick-start commands: `make demo` and `make test`.
.PHONY: setup demo test serve

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/fleet demo

test: setup
	bash scripts/test.sh

serve: setup
	.venv/bin/fleet serve
