package lvs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/lvs/lvstest"
)

func TestReconcileAdoptsIdenticalState(t *testing.T) {
	desired := lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1), lvs.RS(lvs.RIP3, 2))}
	k := lvstest.NewKernel(lvs.Table{lvs.Web(
		lvs.Destination{Addr: lvs.RIP3, Port: 80, Weight: 2, Forward: lvs.DR, ActiveConns: 4},
		lvs.Destination{Addr: lvs.RIP2, Port: 80, Weight: 1, Forward: lvs.DR, ActiveConns: 9})})
	r := lvs.NewReconciler(k, nil)
	res, err := r.Reconcile(context.Background(), desired)
	if err != nil || len(res.Ops) != 0 || len(k.Applied) != 0 {
		t.Fatalf("restart over identical state: ops %v, err %v", lvs.OpStrings(res.Ops), err)
	}
}

func TestReconcileEditKeepsConnections(t *testing.T) {
	k := lvstest.NewKernel(lvs.Table{lvs.Web(lvs.Destination{Addr: lvs.RIP2, Port: 80, Weight: 1, Forward: lvs.DR, ActiveConns: 9})})
	r := lvs.NewReconciler(k, nil)
	if _, err := r.Reconcile(context.Background(), lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 3))}); err != nil {
		t.Fatal(err)
	}
	want := []string{"edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: weight 1 -> 3"}
	if !reflect.DeepEqual(k.Applied, want) {
		t.Fatalf("applied %q, want %q", k.Applied, want)
	}
	cur, _ := k.Services()
	if d := cur[0].Destinations[0]; d.Weight != 3 || d.ActiveConns != 9 {
		t.Fatalf("after edit: %+v", d)
	}
	if st := r.Status(); st.Ops != 1 || st.Failed != 0 || st.Err != "" || st.Owned != 1 || st.Last.IsZero() {
		t.Errorf("status %+v", st)
	}
}

func TestReconcileOwnership(t *testing.T) {
	foreign := lvs.Service{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddr("192.0.2.1"), 80), Scheduler: "rr",
		Destinations: []lvs.Destination{lvs.RS(netip.MustParseAddr("192.0.2.2"), 1)}}
	k := lvstest.NewKernel(lvs.Table{foreign})
	r := lvs.NewReconciler(k, nil)
	ctx := context.Background()
	api := lvs.Service{Key: lvs.AddrKey(lvs.TCP, lvs.VIP, 443), Scheduler: "rr", Destinations: []lvs.Destination{lvs.RS(lvs.RIP2, 1)}}
	if _, err := r.Reconcile(ctx, lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1)), api}); err != nil {
		t.Fatal(err)
	}
	// api leaves the desired table: deleted; the foreign service stays.
	k.Reset()
	if _, err := r.Reconcile(ctx, lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1))}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"delete service 10.0.0.1:443 TCP"}; !reflect.DeepEqual(k.Applied, want) {
		t.Fatalf("applied %q, want %q", k.Applied, want)
	}
	if got := r.Owned(); len(got) != 1 || got[0] != lvs.Web().Key {
		t.Fatalf("owned %v", got)
	}
	// Someone edits the foreign service: not ours, untouched.
	k.Reset()
	f2 := foreign
	f2.Scheduler = "wlc"
	cur, _ := k.Services()
	cur[0] = f2
	k.Set(cur)
	if res, err := r.Reconcile(ctx, lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1))}); err != nil || len(res.Ops) != 0 {
		t.Fatalf("foreign edit caused ops %v, err %v", lvs.OpStrings(res.Ops), err)
	}
	// Stop: RemoveOwned deletes ours only.
	if _, err := r.RemoveOwned(ctx); err != nil {
		t.Fatal(err)
	}
	cur, _ = k.Services()
	if len(cur) != 1 || cur[0].Key != foreign.Key {
		t.Fatalf("after RemoveOwned: %v", cur)
	}
	if len(r.Owned()) != 0 {
		t.Fatalf("still owns %v", r.Owned())
	}
}

func TestReconcileRepairsDrift(t *testing.T) {
	k := lvstest.NewKernel(nil)
	r := lvs.NewReconciler(k, nil)
	ctx := context.Background()
	desired := lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1), lvs.RS(lvs.RIP3, 1))}
	if _, err := r.Reconcile(ctx, desired); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		drift func(lvs.Table) lvs.Table
		want  []string
	}{
		{"ipvsadm -C", func(lvs.Table) lvs.Table { return nil }, []string{
			"add service 10.0.0.1:80 TCP scheduler rr",
			"add real server 10.0.0.1:80 TCP -> 10.0.0.2:80 DR weight 1",
			"add real server 10.0.0.1:80 TCP -> 10.0.0.3:80 DR weight 1",
		}},
		{"deleted real server", func(t lvs.Table) lvs.Table { t[0].Destinations = t[0].Destinations[1:]; return t }, []string{
			"add real server 10.0.0.1:80 TCP -> 10.0.0.2:80 DR weight 1",
		}},
		{"changed weight", func(t lvs.Table) lvs.Table {
			i := slices.IndexFunc(t[0].Destinations, func(d lvs.Destination) bool { return d.Addr == lvs.RIP2 })
			t[0].Destinations[i].Weight = 7
			return t
		}, []string{
			"edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: weight 7 -> 1",
		}},
	} {
		cur, _ := k.Services()
		k.Set(tc.drift(cur))
		k.Reset()
		if _, err := r.Reconcile(ctx, desired); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(k.Applied, tc.want) {
			t.Errorf("%s: applied %q, want %q", tc.name, k.Applied, tc.want)
		}
	}
}

func TestReconcileContinuesAfterFailure(t *testing.T) {
	k := lvstest.NewKernel(nil)
	k.FailOn = func(op lvs.Op) error {
		if op.Kind == lvs.AddService && op.Service.Scheduler == "bogus" {
			return syscall.ENOENT
		}
		return nil
	}
	r := lvs.NewReconciler(k, nil)
	bad := lvs.Service{Key: lvs.AddrKey(lvs.TCP, lvs.VIP, 8080), Scheduler: "bogus", Destinations: []lvs.Destination{lvs.RS(lvs.RIP2, 1)}}
	res, err := r.Reconcile(context.Background(), lvs.Table{bad, lvs.Web(lvs.RS(lvs.RIP2, 1))})
	if err == nil || !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "add service 10.0.0.1:8080 TCP") {
		t.Fatalf("want the failed add in the error, got %v", err)
	}
	if res.Failed != 2 { // the add and its skipped real server
		t.Errorf("failed = %d, want 2", res.Failed)
	}
	if len(k.Applied) != 2 {
		t.Errorf("the good service was not applied: %q", k.Applied)
	}
}

func TestReconcileRefusesInvalidTable(t *testing.T) {
	k := lvstest.NewKernel(nil)
	r := lvs.NewReconciler(k, nil)
	if _, err := r.Reconcile(context.Background(), lvs.Table{lvs.Web(), lvs.Web()}); err == nil {
		t.Fatal("duplicate services accepted")
	}
	if len(k.Applied) != 0 {
		t.Fatalf("invalid table applied %q", k.Applied)
	}
}

// syncBuffer is a log sink safe for the Run goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRun(t *testing.T) {
	k := lvstest.NewKernel(nil)
	var logs syncBuffer
	r := lvs.NewReconciler(k, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	updates := make(chan lvs.Table)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, updates, 20*time.Millisecond) }()

	updates <- lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1))}
	waitFor(t, "first table applied", func() bool { s, _ := k.Services(); return len(s) == 1 })

	updates <- lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 4))}
	waitFor(t, "weight edit", func() bool { s, _ := k.Services(); return s[0].Destinations[0].Weight == 4 })

	// Drift: someone flushes IPVS; the periodic check repairs it and says what differed.
	k.Set(nil)
	waitFor(t, "drift repaired", func() bool { s, _ := k.Services(); return len(s) == 1 && len(s[0].Destinations) == 1 })
	waitFor(t, "drift logged", func() bool {
		return strings.Contains(logs.String(), `msg="IPVS drift repaired" cause="periodic check" op="add service 10.0.0.1:80 TCP scheduler rr"`)
	})

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop within 2 s of its context ending")
	}
}

func TestRunStopsWhenUpdatesClose(t *testing.T) {
	k := lvstest.NewKernel(nil)
	r := lvs.NewReconciler(k, nil)
	updates := make(chan lvs.Table, 2)
	updates <- lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1))}
	updates <- lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 2))}
	close(updates)
	if err := r.Run(context.Background(), updates, time.Hour); err != nil {
		t.Fatal(err)
	}
	s, _ := k.Services()
	if len(s) != 1 || s[0].Destinations[0].Weight != 2 {
		t.Fatalf("latest table not applied: %+v", s)
	}
}

// A restarted daemon that persisted Owned removes a service dropped from its config
// while it was down.
func TestAdoptPersistedOwnership(t *testing.T) {
	old := lvs.Service{Key: lvs.AddrKey(lvs.TCP, lvs.VIP, 443), Scheduler: "rr"}
	k := lvstest.NewKernel(lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1)), old})
	r := lvs.NewReconciler(k, nil)
	r.Adopt([]lvs.Key{old.Key, lvs.Web().Key})
	if _, err := r.Reconcile(context.Background(), lvs.Table{lvs.Web(lvs.RS(lvs.RIP2, 1))}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"delete service 10.0.0.1:443 TCP"}; !reflect.DeepEqual(k.Applied, want) {
		t.Fatalf("applied %q, want %q", k.Applied, want)
	}
}
