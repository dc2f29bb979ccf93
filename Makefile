# hmisauth — the two commands a new machine needs are `make run` and `make test`.
GO        ?= go
FUZZTIME  ?= 5s
DATA      ?= ./hmisauth-data
DEMO      ?= localhost:8090

.PHONY: run build test deps check unit fuzz bench clean

## run: serve on 127.0.0.1:8080 with the embedded SQLite database in $(DATA), and the demo
## HMIS app on $(DEMO) (`make run DEMO=` leaves it out)
run:
	$(GO) run ./cmd/hmisauth serve --data $(DATA) $(if $(DEMO),--demo-app $(DEMO))

## build: the hmisauth binary in ./bin
build:
	$(GO) build -o bin/hmisauth ./cmd/hmisauth

## test: install what the suite needs (Chromium), then run every check
test: deps check unit fuzz

deps:
	scripts/install-test-deps.sh

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## bench: the login path and raw Argon2id figures (docs/PERFORMANCE.md)
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=100x ./password/... ./store/sqlite/
	$(GO) test -run='^$$' -bench=LoginServer -benchtime=600x ./cmd/hmisauth/

clean:
	rm -rf bin
