package lvs_test

import (
	"context"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/lvs/lvstest"
)

// TestReconcileChangesReadsOnlyChangedServices: after a whole pass, a desired table that
// differs in one weight and one removed service reads and converges those two services
// only; drift in another service waits for the next whole pass, which repairs it.
func TestReconcileChangesReadsOnlyChangedServices(t *testing.T) {
	ctx := context.Background()
	table := lvs.SyntheticTable(40, 200)
	k := lvstest.NewKernel(nil)
	r := lvs.NewReconciler(k, nil)
	if _, err := r.Reconcile(ctx, table); err != nil {
		t.Fatal(err)
	}
	// Someone edits service 3 behind lvsd's back.
	cur, _ := k.Services()
	cur[3].Destinations[0].Weight = 99
	k.Set(cur)
	k.Reset()

	next := lvs.SyntheticTable(40, 200)
	next[7].Destinations[0].Weight++
	removed := next[9]
	next = append(next[:9], next[10:]...)
	res, err := r.ReconcileChanges(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"delete service " + removed.Key.String(),
		"edit real server " + next[7].Key.String() + " -> " + next[7].Destinations[0].Addr.String() + ":" +
			strconv.Itoa(int(next[7].Destinations[0].Port)) + ": weight 1 -> 2",
	}
	if !reflect.DeepEqual(k.Applied, want) || k.PartialReads != 1 || len(res.Ops) != 2 {
		t.Fatalf("applied %q (%d partial reads), want %q", k.Applied, k.PartialReads, want)
	}
	k.Reset()
	if res, _ := r.ReconcileChanges(ctx, next); len(res.Ops) != 0 || k.PartialReads != 1 {
		t.Fatalf("nothing changed: %d ops, %d partial reads", len(res.Ops), k.PartialReads)
	}
	if _, err := r.Reconcile(ctx, next); err != nil || len(k.Applied) != 1 {
		t.Fatalf("the whole pass repairs the drift: applied %q, err %v", k.Applied, err)
	}
}

// TestReconcileChangesAfterFailureReadsAll: after a failed operation the kernel's state is
// unknown, so the next ReconcileChanges is a whole pass.
func TestReconcileChangesAfterFailureReadsAll(t *testing.T) {
	ctx := context.Background()
	k := lvstest.NewKernel(nil)
	fail := true
	k.FailOn = func(op lvs.Op) error {
		if fail && op.Kind == lvs.AddDest {
			return syscall.ENOMEM
		}
		return nil
	}
	r := lvs.NewReconciler(k, nil)
	table := lvs.SyntheticTable(5, 10)
	if _, err := r.Reconcile(ctx, table); err == nil {
		t.Fatal("want the failures")
	}
	fail = false
	res, err := r.ReconcileChanges(ctx, table)
	if err != nil || len(res.Ops) != 10 || k.PartialReads != 0 {
		t.Fatalf("%d ops, %d partial reads, err %v; want the 10 real servers added by a whole pass", len(res.Ops), k.PartialReads, err)
	}
}

// TestSetIntervalTakesEffect: a running Run whose interval is an hour repairs drift within
// moments once SetInterval shortens it (a reload of reconcile_interval).
func TestSetIntervalTakesEffect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := lvstest.NewKernel(nil)
	r := lvs.NewReconciler(k, nil)
	updates := make(chan lvs.Table, 1)
	table := lvs.SyntheticTable(2, 4)
	updates <- table
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, updates, time.Hour) }()
	waitTable := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			cur, _ := k.Services()
			if len(lvs.Diff(table, cur)) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the kernel did not converge", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitTable("first table")
	r.SetInterval(20 * time.Millisecond)
	k.Set(nil) // someone ran ipvsadm -C
	waitTable("drift after SetInterval")
	cancel()
	<-done
}
