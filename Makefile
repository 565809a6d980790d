# lvsd build, test and benchmark entry points. `make test` is what CI runs: it installs what
# the suites need on a fresh Debian machine (idempotent) and then runs every suite.
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
GOBIN   := $(shell $(GO) env GOPATH)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
export PATH := $(dir $(GO)):$(GOBIN):$(PATH)

# Debian packages the suites use: qemu + Debian's stock kernel for the IPVS suites (this
# machine's own kernel has no IPVS), keepalived as the VRRP interop peer, ipvsadm as the
# reference for formats and benchmarks, iptables and iproute2 for namespace labs.
APT_PKGS := qemu-system-x86 linux-image-amd64 busybox-static keepalived ipvsadm iptables \
            iproute2 curl kmod tcpdump procps psmisc \
            zsh fish man-db systemd rpm

.PHONY: all build man install deb rpm demo demo-vm deps test test-unit test-root test-vm bench bench-go bench-healthcheck bench-failover bench-vm lint fuzz clean
all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/lvsd ./cmd/lvsd

deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing" $$missing; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq >/dev/null && \
	  apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@$(GO) mod download

# Everything: unit tests, namespace tests (root) and the in-VM IPVS suites.
test: deps build test-root test-vm

# Needs neither root nor a VM: -short makes kernel-facing tests skip.
test-unit:
	$(GO) test -short -count=1 ./...

# Unit tests plus the network-namespace suites on the host kernel (needs root).
test-root: build
	$(GO) test -count=1 -p 2 -timeout 20m ./...

# IPVS suites inside a qemu VM running Debian's stock kernel (needs root and `make deps`).
test-vm: build
	$(GO) run ./internal/vmtest/cmd/vmtest -suite all

# Every benchmark; figures go to docs/benchmarks.md. bench-failover and bench-vm need root
# and `make deps` (keepalived, qemu).
bench: build bench-go bench-healthcheck bench-failover bench-vm

# Go micro-benchmarks: codecs, diff, config.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# 37,205 TCP checks at delay_loop 1 s against loopback listeners: lateness, CPU, RSS.
bench-healthcheck:
	$(GO) run ./internal/bench/healthcheck

# Failover time, lvsd pair vs keepalived pair, kill -9 and graceful stop (namespaces).
bench-failover: build
	LVSD_BIN=$(CURDIR)/bin/lvsd $(GO) run ./internal/bench/failover -n 5
	LVSD_BIN=$(CURDIR)/bin/lvsd $(GO) run ./internal/bench/failover -n 5 -version 3 -advert-int 0.1

# IPVS cold apply / no-op reconcile / RSS vs ipvsadm-restore, inside the VM.
bench-vm: build
	$(GO) run ./internal/vmtest/cmd/vmtest -suite bench

# Two directors and two real servers in network namespaces on this machine: traffic, a
# failover and back, then everything it made is deleted (needs root). Without IPVS in this
# kernel it shows the VRRP part and says so; demo-vm runs the whole demo in the test VM.
demo: build
	$(GO) build -o bin/lvsd-demo ./examples/demo
	bin/lvsd-demo -lvsd bin/lvsd

demo-vm: build
	$(GO) build -o bin/lvsd-demo ./examples/demo
	$(GO) run ./internal/vmtest/cmd/vmtest -exec '$(CURDIR)/bin/lvsd-demo -lvsd $(CURDIR)/bin/lvsd'

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) vet -tags vmtest ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	staticcheck ./...
	staticcheck -tags vmtest ./...

# Every fuzz target for FUZZTIME each (PACKAGE:TARGET). A crash stops the run and leaves the
# input in PACKAGE/testdata/fuzz/TARGET/: commit it with the fix, it becomes a regression test
# that plain `go test` runs. Figures in docs/reliability.md.
FUZZTIME ?= 30s
FUZZ_TARGETS := internal/config:FuzzLoad internal/config:FuzzParseFiles internal/config:FuzzItems vrrp:FuzzParseAdvert \
                internal/daemon:FuzzControlRequest internal/convert:FuzzConvert \
                internal/script:FuzzSplit lvs:FuzzParseSyncDaemon lvs:FuzzDecode
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== $${t#*:} (./$${t%%:*}, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; \
	done

# Install: the binary, systemd unit, man page, shell completions and (unless one exists) the
# example configuration. PREFIX=/usr for a system package; DESTDIR for a staging tree.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

# The man page and completions are generated by the binary from its command table.
man: build
	bin/lvsd man > bin/lvsd.8

install: build man
	install -D -m 0755 bin/lvsd $(DESTDIR)$(BINDIR)/lvsd
	install -D -m 0644 bin/lvsd.8 $(DESTDIR)$(MANDIR)/man8/lvsd.8
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(UNITDIR)
	bin/lvsd completion bash > $(DESTDIR)$(BASHCOMPDIR)/lvsd
	bin/lvsd completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_lvsd
	bin/lvsd completion fish > $(DESTDIR)$(FISHCOMPDIR)/lvsd.fish
	sed 's|/usr/sbin/lvsd|$(BINDIR)/lvsd|g; s|/etc/lvsd|$(SYSCONFDIR)/lvsd|g' dist/lvsd.service > $(DESTDIR)$(UNITDIR)/lvsd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/lvsd.service
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/lvsd
	test -e $(DESTDIR)$(SYSCONFDIR)/lvsd/lvsd.hcl || install -m 0644 dist/lvsd.hcl $(DESTDIR)$(SYSCONFDIR)/lvsd/lvsd.hcl

# Packages in bin/: lvsd_VERSION_ARCH.deb and lvsd-VERSION-1.ARCH.rpm (dist/package.sh).
deb: build
	GO=$(GO) sh dist/package.sh deb $(VERSION) bin

rpm: build
	GO=$(GO) sh dist/package.sh rpm $(VERSION) bin

clean:
	rm -rf bin
