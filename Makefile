# marketops: `make demo` and `make test` are all a newcomer needs.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
PORT    ?= 8000
DEMO    ?= demo
SIZE    ?= small
CONTACTS ?= 20000
MONTHS  ?= 12

.PHONY: demo test bench serve clean-demo help

help:
	@echo "make demo   build the sample company workspace in ./$(DEMO), run the pipeline, serve on PORT=$(PORT)"
	@echo "make test   install test extras and run the test suite"
	@echo "make bench  run the benchmarks (SIZE=small|large)"

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/pip install -q -e '.[test,spark,predict]'
	touch $@

# The demo workspace is built once; later runs reuse it (`make clean-demo` starts over).
$(DEMO)/marketops.yaml: | $(BIN)/.installed
	@test -f $(DEMO)/.demo-login || (mkdir -p $(DEMO) && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(12))" > $(DEMO)/.demo-login && chmod 600 $(DEMO)/.demo-login)
	MARKETOPS_ADMIN_EMAIL=admin@example.com MARKETOPS_ADMIN_PASSWORD="$$(cat $(DEMO)/.demo-login)" \
		$(BIN)/marketops init $(DEMO) --sample --contacts $(CONTACTS) --months $(MONTHS) --name "Acme Analytics (sample)"

demo: $(BIN)/.installed $(DEMO)/marketops.yaml
	$(BIN)/marketops run -w $(DEMO)
	@echo "Web app login: admin@example.com / $$(cat $(DEMO)/.demo-login)"
	$(BIN)/marketops serve -w $(DEMO) --port $(PORT)

serve: $(BIN)/.installed
	$(BIN)/marketops serve -w $(DEMO) --port $(PORT)

test: $(BIN)/.installed-test
	$(BIN)/pytest

# The peer packages the benchmarks compare against (ChannelAttribution builds from source once).
$(BIN)/.installed-bench: $(BIN)/.installed-test
	$(BIN)/pip install -q -e '.[test,spark,predict,bench]'
	touch $@

bench: $(BIN)/.installed-bench
	$(BIN)/python bench/run.py --size $(SIZE)

clean-demo:
	rm -rf $(DEMO)
