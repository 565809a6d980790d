package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/lvs/lvstest"
)

// TestLVSReloadEditsInPlace: a reload changing a service's scheduler, persistence and a
// real server's weight reaches the kernel as edits (set service / set destination), never
// a delete and add, and a real server added by the reload is one add.
func TestLVSReloadEditsInPlace(t *testing.T) {
	const before = `
virtual_server "10.0.0.1:80" {
  lb_algo = "rr"
  lb_kind = "DR"
  real_server "10.0.0.2:80" { weight = 1 }
  real_server "10.0.0.3:80" { weight = 1 }
}`
	after := strings.NewReplacer(`"rr"`, `"wlc"`, `lb_kind = "DR"`, "lb_kind = \"DR\"\n  persistence_timeout = 300",
		`"10.0.0.3:80" { weight = 1 }`, "\"10.0.0.3:80\" { weight = 5 }\n  real_server \"10.0.0.4:80\" {}").Replace(before)
	parse := func(src string) *config.Config {
		cfg, err := config.Parse("t.hcl", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	old, cfg := parse(before), parse(after)
	kernel := lvstest.NewKernel(nil)
	st := newLVSState(old, lvs.NewReconciler(kernel, nil))
	runHealth(t, st, old.VirtualServers, st.onChange)
	health, ctx := st.health, context.Background()
	// reconcile waits until the desired table has dests destinations (the health manager
	// reports asynchronously), then reconciles once and returns the kernel ops.
	reconcile := func(dests int) []string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			st.mu.Lock()
			table := desiredTable(st.vss, st.dests)
			st.mu.Unlock()
			if n := len(table[0].Destinations); n != dests {
				if time.Now().After(deadline) {
					t.Fatalf("desired table has %d destinations, want %d", n, dests)
				}
				time.Sleep(5 * time.Millisecond)
				continue
			}
			kernel.Reset()
			if _, err := st.rec.Reconcile(ctx, table); err != nil {
				t.Fatal(err)
			}
			return kernel.Applied
		}
	}
	if ops := reconcile(2); len(ops) != 3 {
		t.Fatalf("initial table: %q", ops)
	}

	st.setConfig(cfg.VirtualServers)
	if err := health.Apply(healthConfig(cfg.VirtualServers, nil)); err != nil {
		t.Fatal(err)
	}
	ops := reconcile(3)
	want := []string{
		"edit service 10.0.0.1:80 TCP: scheduler rr -> wlc, persistence 0 -> 300",
		"edit real server 10.0.0.1:80 TCP -> 10.0.0.3:80: weight 1 -> 5",
		"add real server 10.0.0.1:80 TCP -> 10.0.0.4:80 DR weight 1",
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("reload reached the kernel as\n%s\nwant\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	if ops := reconcile(3); len(ops) != 0 {
		t.Errorf("not converged: %q", ops)
	}
}
