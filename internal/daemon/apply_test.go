package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
)

// startBare runs a daemon whose configuration has neither VRRP nor IPVS (no root, no
// IPVS needed) from a config file that the test rewrites.
func startBare(t *testing.T) (*Daemon, string, func()) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "lvsd.hcl")
	writeConfig(t, path, `global { router_id = "a" }`)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notes []string
	d, err := New(Options{Config: cfg, ConfigPath: path, Socket: filepath.Join(dir, "lvsd.sock"),
		Log: slog.New(slog.DiscardHandler), Notify: func(s ...string) {
			mu.Lock()
			notes = append(notes, strings.Join(s, ","))
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		running := d.running
		d.mu.Unlock()
		if running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon not running after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return d, path, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if got := strings.Join(notes, " "); !strings.HasPrefix(got, "READY=1,STATUS=running") || !strings.HasSuffix(got, "STOPPING=1") {
			t.Errorf("systemd notifications %q", got)
		}
		if got := strings.Join(notes, " "); strings.Contains(got, "RELOADING") && !strings.Contains(got, "RELOADING=1,MONOTONIC_USEC=") {
			t.Errorf("reload notification without MONOTONIC_USEC: %q", got)
		}
	}
}

func writeConfig(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestApplyFailingPreflightChangesNothing: a reload whose new instance names a missing
// interface is refused with the block's position, and the running config stays.
func TestApplyFailingPreflightChangesNothing(t *testing.T) {
	d, path, stop := startBare(t)
	defer stop()
	writeConfig(t, path, `global { router_id = "b" }
vrrp_instance "VI_1" {
  interface = "nonexistent0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
}`)
	res := d.Reload(context.Background())
	if res.Applied || len(res.Problems) != 1 || !strings.HasPrefix(res.Problems[0], path+":2:1: ") ||
		!strings.Contains(res.Problems[0], `interface "nonexistent0"`) {
		t.Fatalf("reload result %+v, want one problem at %s:2:1 naming the interface", res, path)
	}
	if st := d.Status(); st.RouterID != "a" || len(st.VRRP) != 0 {
		t.Errorf("a refused reload changed the daemon: %+v", st)
	}

	// Invalid config: every problem, nothing applied.
	writeConfig(t, path, `global { router_id = "" }
bogus {}`)
	res = d.Reload(context.Background())
	if res.Applied || len(res.Problems) != 2 {
		t.Errorf("invalid config: %+v", res)
	}

	// Plan of a valid change, then the reload applies exactly it.
	writeConfig(t, path, `global { router_id = "c" }`)
	plan := d.Plan(context.Background(), path)
	if len(plan.Problems) != 0 || len(plan.Changes) != 1 || plan.Changes[0].String() != `change global: router_id "a" -> "c"` {
		t.Fatalf("plan %+v", plan)
	}
	if st := d.Status(); st.RouterID != "a" {
		t.Errorf("plan applied something: router_id %q", st.RouterID)
	}
	if rel := d.Plan(context.Background(), "relative.hcl"); len(rel.Problems) != 1 {
		t.Errorf("plan of a relative path: %+v", rel)
	}
	res = d.Reload(context.Background())
	if !res.Applied || len(res.Changes) != 1 || d.Status().RouterID != "c" {
		t.Errorf("reload %+v, router_id %q", res, d.Status().RouterID)
	}
	// The control socket cannot move while running (--socket overrides it anyway).
	writeConfig(t, path, fmt.Sprintf(`global {
  router_id = "c"
  control_socket = %q
}`, filepath.Join(t.TempDir(), "other.sock")))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := d.Apply(context.Background(), cfg); err != nil || !p.Empty() {
		t.Errorf("--socket overrides global.control_socket on reload too: plan %v, err %v", p, err)
	}
}

func TestApplyOutsideRun(t *testing.T) {
	d := &Daemon{cfg: &config.Config{}}
	if _, err := d.Apply(context.Background(), &config.Config{}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Apply before Run: %v", err)
	}
}
