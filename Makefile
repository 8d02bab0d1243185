# AdvisoryHub — developer entry points. `make run` and `make test` are all a
# fresh machine needs (Go, plus the PostgreSQL server binaries; the tests
# also use moto_server and cfn-lint).

GO        ?= go
FUNCTIONS := web webhook publish notify similarity scheduled
BUILD_DIR := build
PKGS      := ./...

.PHONY: run test test-go test-infra fuzz lint build bench clean schemas schemas-check altcha altcha-check $(addprefix build-,$(FUNCTIONS))

## run: the whole system in one process on http://127.0.0.1:8000/
run:
	$(GO) run ./local

## test: formatting, vet, every test on real PostgreSQL/SQS/git, the CDK app, and a short fuzz pass
test: lint test-go test-infra fuzz

test-go:
	$(GO) test -count=1 -timeout 20m $(PKGS)

# infra/ is its own module (the CDK stays out of the product's dependencies).
test-infra:
	cd infra && $(GO) vet ./... && $(GO) test -count=1 ./...

# Each fuzz target runs a fixed number of executions in CI: a duration-based
# -fuzztime races Go's fuzz coordinator at the deadline and fails with a bare
# "context deadline exceeded" and no reproducer (golang/go#75804, fixed only in
# Go 1.27), so CI counts executions instead. `make fuzz FUZZTIME=5m` for a
# longer hunt by hand.
FUZZTIME ?= 10000x
# Minimizing each new interesting input may run for 60 s by default, which
# on a fresh cache dominated the pass (FuzzString: 68 s for 10,000 execs);
# a bounded number of executions keeps the pass short and its length
# predictable.
FUZZMINIMIZE ?= 200x
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' shared | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -c6-); do \
	    echo "fuzz ./$$dir $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./$$dir; \
	  done; \
	done

## lint: gofmt and go vet must be clean
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './infra/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## build: one bootstrap per function for provided.al2023 on arm64
build: $(addprefix build-,$(FUNCTIONS))

$(addprefix build-,$(FUNCTIONS)): build-%:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
	  -o $(BUILD_DIR)/$*/bootstrap ./functions/$*

## bench: the benchmarks (figures go in the notes)
BENCHTIME ?= 1s
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

## schemas: regenerate the vendored schema data (module proxy + npm); schemas-check fails on drift
schemas:
	$(GO) run ./schemas/gen/vendorschemas
	$(GO) run ./schemas/gen/cwecatalog

schemas-check:
	$(GO) run ./schemas/gen/vendorschemas -check
	$(GO) run ./schemas/gen/cwecatalog -check

clean:
	rm -rf $(BUILD_DIR)

## altcha: vendor the ALTCHA widget (npm altcha, CSP-friendly external build) into web/static/altcha/
ALTCHA_VERSION ?= 2.3.0
altcha:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  (cd "$$tmp" && npm pack --silent altcha@$(ALTCHA_VERSION) >/dev/null && tar xzf altcha-$(ALTCHA_VERSION).tgz); \
	  mkdir -p web/static/altcha; \
	  cp "$$tmp/package/dist_external/altcha.js" "$$tmp/package/dist_external/altcha.css" \
	     "$$tmp/package/dist_external/worker.js" web/static/altcha/; \
	  cp "$$tmp/package/LICENSE.txt" web/static/altcha/LICENSE.txt; \
	  echo "vendored altcha@$(ALTCHA_VERSION); update web/static/altcha/SHA256SUMS:"; \
	  cd web/static/altcha && sha256sum altcha.js altcha.css worker.js LICENSE.txt

## altcha-check: the vendored widget matches web/static/altcha/SHA256SUMS
altcha-check:
	cd web/static/altcha && grep -v '^#' SHA256SUMS | sha256sum -c --quiet
