# batchtrack: the two commands are `make run` and `make test`; both set up
# what a fresh Debian/Ubuntu machine lacks first.

GO      ?= go
TOOLS   := $(GO) tool -modfile=tools/go.mod
BIN     := bin/batchtrack
PKGS    := ./...
BENCH_COUNT ?= 6

.PHONY: run test build generate check deps deps-test assets bench clean reset-data cluster cluster-down cluster-restart cluster-status test-pgbouncer chaos

## run: start the app on http://127.0.0.1:3000 with a private PostgreSQL and demo data
run: deps build
	./$(BIN) serve

## build: compile the binary (generated code and static/vendor are committed; see generate, assets)
build:
	$(GO) build -o $(BIN) .

## test: the whole suite with the race detector (the chaos suite's short run included), then the API suite again through PgBouncer
test: deps-test node_modules/.package-lock.json check
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	TEST_PGBOUNCER=1 $(GO) test -count=1 -timeout 30m ./web/

## test-pgbouncer: the API and inventory suites with every test pool through PgBouncer in transaction mode
test-pgbouncer: deps-test
	TEST_PGBOUNCER=1 $(GO) test -count=1 -timeout 30m ./web/ ./inventory/ ./db/...

## chaos: the fault suite against a cluster of its own, for CHAOS_DURATION (default 3m); prints the fault table
CHAOS_DURATION ?= 3m
chaos: deps-test
	CHAOS_DURATION=$(CHAOS_DURATION) $(GO) test -count=1 -v -timeout 30m -run '^TestChaos$$' ./chaos/

# The browser tests read axe-core from node_modules (a devDependency).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

## generate: regenerate templ views and sqlc queries
generate:
	$(TOOLS) templ generate -path views
	$(TOOLS) sqlc generate

## check: gofmt, go vet, and generated code (templ, sqlc, static/vendor) up to date with its sources
check:
	@scripts/deps.sh node
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^tools/')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	@scripts/check-generated.sh

## deps: what `make run` needs (PostgreSQL server binaries)
deps:
	@scripts/deps.sh postgres

## deps-test: what `make test` needs on top (Redis, Chromium for browser tests, Node.js for the static/vendor check, HAProxy and PgBouncer for the cluster, chaos and PgBouncer tests)
deps-test:
	@scripts/deps.sh postgres redis node chromium haproxy pgbouncer

## assets: regenerate static/vendor (committed, embedded in the binary) from package-lock.json; run after changing package.json
assets:
	@scripts/deps.sh node
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@scripts/copy-assets.sh

## bench: Go benchmarks of the limiter (none/memory/redis), the cache against a bare handler, the request metrics, the load tester and the trace
# Rounds of one pass over every benchmark, so a slow minute on a shared
# machine hits every variant alike (go test -count repeats each in a row).
bench: deps-test
	@mkdir -p bin
	@: > bin/bench.txt
	@for i in $$(seq $(BENCH_COUNT)); do \
	  echo "== round $$i of $(BENCH_COUNT)"; \
	  bash -o pipefail -c "$(GO) test -run '^$$' -bench . -benchmem -count 1 ./web/... ./loadtest/... ./inventory/ | tee -a bin/bench.txt" || exit 1; \
	done
	@echo; echo "medians of $(BENCH_COUNT) rounds (benchstat; raw lines in bin/bench.txt):"
	@$(TOOLS) benchstat bin/bench.txt

## cluster: HAProxy on 127.0.0.1:3000 before three instances, PgBouncer, Redis and a private PostgreSQL (docs/deploy.md)
cluster:
	@scripts/deps.sh postgres redis haproxy pgbouncer
	$(GO) build -o $(BIN) .
	BIN=$(BIN) scripts/cluster.sh up

## cluster-down: stop every part of the cluster (its data stays in .cluster/)
cluster-down:
	@scripts/cluster.sh down

## cluster-restart: restart the instances one at a time; clients see no failed request
cluster-restart:
	@scripts/deps.sh postgres redis haproxy pgbouncer
	$(GO) build -o $(BIN) .
	BIN=$(BIN) scripts/cluster.sh restart

## cluster-status: each part's pid, port, state, and HAProxy's view of each instance
cluster-status:
	@scripts/cluster.sh status

## reset-data: delete the private PostgreSQL cluster and its data (asks first; the server must be stopped)
reset-data: build
	./$(BIN) reset-data

clean:
	rm -rf bin
