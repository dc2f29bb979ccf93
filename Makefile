# hmisauth — the two commands a new machine needs are `make run` and `make test`.
GO        ?= go
FUZZTIME  ?= 5s
DATA      ?= ./hmisauth-data
DEMO      ?= localhost:8090

.PHONY: run build test deps check unit fuzz bench clean

## run: build ./bin/hmisauth, then serve on 127.0.0.1:8080 with the embedded SQLite database in
## $(DATA), and the demo HMIS app on $(DEMO) (`make run DEMO=` leaves it out). Built rather than
## `go run`, so the first build says what it is doing, and the commands the server prints
## (./bin/hmisauth user temp-password …) work from this folder while it runs.
run:
	@echo "Building hmisauth into ./bin/hmisauth. The first build downloads and compiles everything"
	@echo "and takes about two minutes; later builds take seconds."
	$(GO) build -o bin/hmisauth ./cmd/hmisauth
	@echo "Starting hmisauth…"
	./bin/hmisauth serve --data $(DATA) $(if $(DEMO),--demo-app $(DEMO))

## build: the hmisauth binary in ./bin
build:
	$(GO) build -o bin/hmisauth ./cmd/hmisauth

# Programs the tests run that are built outside the repository (oauth2-proxy), and where the
# end-to-end test finds oauth2-proxy; set HMISAUTH_OAUTH2_PROXY to use another build.
TOOLS_BIN             ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hmisauth-test-tools/bin
HMISAUTH_OAUTH2_PROXY ?= $(TOOLS_BIN)/oauth2-proxy
# The axe-core the browser tests run in every page (installed beside TOOLS_BIN by `make deps`),
# and the folder where they leave screenshots of every page for a person to look at.
HMISAUTH_AXE          ?= $(dir $(TOOLS_BIN))axe/node_modules/axe-core/axe.min.js
HMISAUTH_SCREENSHOTS  ?= $(CURDIR)/screenshots

## test: install what the suite needs (Chromium, PostgreSQL, oauth2-proxy, Apache with
## mod_auth_openidc), then run every check
test: deps check unit fuzz
	@echo "Screenshots of every page, at 1280 and 390 px wide: $(HMISAUTH_SCREENSHOTS)"

deps:
	TOOLS_BIN="$(TOOLS_BIN)" scripts/install-test-deps.sh

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# unit runs every package's tests with a throwaway PostgreSQL server (scripts/with-postgres.sh),
# which the PostgreSQL store's conformance suite and the several-process tests use; then the
# rules and web/API tests again with PostgreSQL as their store. That second pass proves the
# behaviour on the other backend; the race detector has already run over the same code in the
# first, and leaving it out there saves minutes of the two cores.
unit:
	HMISAUTH_OAUTH2_PROXY="$(HMISAUTH_OAUTH2_PROXY)" HMISAUTH_AXE="$(HMISAUTH_AXE)" \
	HMISAUTH_SCREENSHOTS="$(HMISAUTH_SCREENSHOTS)" scripts/with-postgres.sh sh -c '\
		$(GO) test -race -count=1 -timeout 20m ./... && \
		HMISAUTH_TEST_STORE=postgres $(GO) test -count=1 -timeout 20m ./auth/ ./web/' || \
	{ echo "Screenshots of every page, at 1280 and 390 px wide: $(HMISAUTH_SCREENSHOTS)"; exit 1; }

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## bench: the login path and raw Argon2id figures, single sign-on, and sign-ins and session checks on
## PostgreSQL (docs/PERFORMANCE.md)
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=100x ./password/... ./store/sqlite/
	$(GO) test -run='^$$' -bench='LoginServer$$' -benchtime=600x ./cmd/hmisauth/
	$(GO) test -run='^$$' -bench=OIDC -benchtime=10000x ./cmd/hmisauth/
	PG_DURABLE=1 scripts/with-postgres.sh $(GO) test -run='^$$' -bench='LoginServerPostgres|LoginTwoServers' -benchtime=600x ./cmd/hmisauth/
	PG_DURABLE=1 scripts/with-postgres.sh $(GO) test -run='^$$' -bench=SessionCheckServer -benchtime=60000x ./cmd/hmisauth/

clean:
	rm -rf bin
