package lvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Kernel is the IPVS table: read it whole, apply operations. Implementations serialize
// their own calls (Read relies on it).
type Kernel interface {
	// Services returns every virtual service with its destinations and counters.
	Services() (Table, error)
	// Apply performs ops in order, going on after a failure; errs[i] is the result of
	// ops[i], and a nil slice means that all succeeded.
	Apply(ops []Op) (errs []error)
}

// ServiceReader is a Kernel that can also read some services only. The reconciler uses it
// when the desired table changed in a few services (a reload, a health check): reading
// the destinations of 2,000 services to change one weight costs more than the change.
type ServiceReader interface {
	// ServicesOf returns the services of keys that exist, with their destinations.
	ServicesOf(keys []Key) (Table, error)
}

// Result tells what a Reconcile did.
type Result struct {
	Ops    []Op // every operation attempted, in order
	Failed int  // how many of them failed (their errors are joined in Reconcile's error)
}

// Reconciler converges the kernel's IPVS table to desired tables. It only touches services
// it owns: those of the tables it was given. A service removed from the desired table is
// deleted; anything else in IPVS is left alone. It is safe for concurrent use.
type Reconciler struct {
	kernel Kernel
	log    *slog.Logger

	mu    sync.Mutex // held for a whole pass
	owned map[Key]bool
	// applied is the desired table of the last pass that succeeded whole, by key: what the
	// kernel held then. nil: unknown (no such pass yet, or a failure since).
	applied map[Key]*Service

	statusMu sync.Mutex // status is read while a pass runs
	status   Status

	intervals chan time.Duration // SetInterval to Run
}

// Status summarizes the last Reconcile, for `lvsd status` and metrics.
type Status struct {
	Last    time.Time     // when the last Reconcile finished (zero: never)
	Took    time.Duration // how long it took
	Ops     int           // operations it attempted
	Failed  int           // of which failed
	Err     string        // its error, if any
	Owned   int           // services owned now
	Applied int           // successful operations of all Reconciles so far
}

// Status returns the summary of the last Reconcile.
func (r *Reconciler) Status() Status {
	r.statusMu.Lock()
	defer r.statusMu.Unlock()
	return r.status
}

// NewReconciler returns a Reconciler over k. A nil logger discards.
func NewReconciler(k Kernel, log *slog.Logger) *Reconciler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{kernel: k, log: log, owned: make(map[Key]bool), intervals: make(chan time.Duration, 1)}
}

// Owned returns the keys of the services the reconciler currently owns.
func (r *Reconciler) Owned() []Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Key, 0, len(r.owned))
	for k := range r.owned {
		out = append(out, k)
	}
	return out
}

// Adopt adds keys to the owned set: services a previous run owned (e.g. persisted from
// Owned under /run) that are deleted if they are not in the next desired table.
func (r *Reconciler) Adopt(keys []Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		r.owned[k.Normalize()] = true
	}
	r.applied = nil
}

// Reconcile reads the kernel, computes the minimal operations that make the owned part of
// it equal to desired and applies them. It goes on after a failed operation (other
// services still converge) and returns the failures joined.
func (r *Reconciler) Reconcile(ctx context.Context, desired Table) (Result, error) {
	return r.pass(ctx, desired, false)
}

// ReconcileChanges is Reconcile when desired differs in a few services from the table of
// the last pass that succeeded: with a kernel that is a ServiceReader it reads and
// converges only those services (drift elsewhere waits for the next Reconcile).
// Otherwise it is Reconcile.
func (r *Reconciler) ReconcileChanges(ctx context.Context, desired Table) (Result, error) {
	return r.pass(ctx, desired, true)
}

// maxTargeted is the most services a ReconcileChanges reads on their own; beyond that one
// whole read is cheaper.
const maxTargeted = 256

func (r *Reconciler) pass(ctx context.Context, desired Table, changesOnly bool) (Result, error) {
	if err := desired.Validate(); err != nil {
		return Result{}, fmt.Errorf("desired IPVS table: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	var res Result
	var err error
	if keys, ok := r.changedKeys(desired, changesOnly); ok {
		res, err = r.reconcileKeys(ctx, desired, keys)
	} else {
		res, err = r.reconcile(ctx, desired)
	}
	if err == nil && res.Failed == 0 {
		r.applied = make(map[Key]*Service, len(desired))
		for i := range desired {
			r.applied[desired[i].Key.Normalize()] = &desired[i]
		}
	} else {
		r.applied = nil
	}
	r.statusMu.Lock()
	defer r.statusMu.Unlock()
	r.status.Last, r.status.Took = time.Now(), time.Since(start)
	r.status.Ops, r.status.Failed, r.status.Err = len(res.Ops), res.Failed, ""
	if err != nil {
		r.status.Err = err.Error()
	}
	r.status.Owned = len(r.owned)
	r.status.Applied += len(res.Ops) - res.Failed
	return res, err
}

// changedKeys returns the keys of the services in which desired differs from the last
// table applied whole, when a targeted pass is possible.
func (r *Reconciler) changedKeys(desired Table, changesOnly bool) ([]Key, bool) {
	if _, ok := r.kernel.(ServiceReader); !ok || !changesOnly || r.applied == nil {
		return nil, false
	}
	var keys []Key
	seen := make(map[Key]bool, len(desired))
	for i := range desired {
		want := &desired[i]
		k := want.Key.Normalize()
		seen[k] = true
		if had := r.applied[k]; had == nil || len(serviceChanges(want, had)) > 0 || len(diffDests(nil, want, had)) > 0 {
			keys = append(keys, k)
		}
	}
	for k := range r.applied {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	return keys, len(keys) <= maxTargeted
}

// reconcileKeys converges the services of keys only.
func (r *Reconciler) reconcileKeys(ctx context.Context, desired Table, keys []Key) (Result, error) {
	if len(keys) == 0 {
		return Result{}, nil
	}
	current, err := r.kernel.(ServiceReader).ServicesOf(keys)
	if err != nil {
		return Result{}, fmt.Errorf("read IPVS services: %w", err)
	}
	in := make(map[Key]bool, len(keys))
	for _, k := range keys {
		in[k] = true
	}
	var sub Table
	for i := range desired {
		if k := desired[i].Key.Normalize(); in[k] {
			sub = append(sub, desired[i])
			r.owned[k] = true
		}
	}
	res, failed, err := r.apply(ctx, DiffOwned(sub, current, r.owned))
	for i, op := range res.Ops {
		if k := op.Service.Key.Normalize(); op.Kind == DelService && !failed[i] && in[k] {
			delete(r.owned, k)
		}
	}
	return res, err
}

func (r *Reconciler) reconcile(ctx context.Context, desired Table) (Result, error) {
	current, err := r.kernel.Services()
	if err != nil {
		return Result{}, fmt.Errorf("read IPVS table: %w", err)
	}
	ops := DiffOwned(desired, current, r.owned)
	// Own every desired key before applying, so that a partly failed add is still
	// removed once it leaves the desired table.
	for i := range desired {
		r.owned[desired[i].Key.Normalize()] = true
	}
	res, failed, err := r.apply(ctx, ops)
	// Disown what is deleted or no longer desired and no longer in the kernel.
	want := make(map[Key]bool, len(desired))
	for i := range desired {
		want[desired[i].Key.Normalize()] = true
	}
	inKernel := make(map[Key]bool, len(current))
	for i := range current {
		inKernel[current[i].Key.Normalize()] = true
	}
	for k := range r.owned {
		if !want[k] && !inKernel[k] {
			delete(r.owned, k)
		}
	}
	for i, op := range res.Ops {
		if op.Kind == DelService && !failed[i] && !want[op.Service.Key.Normalize()] {
			delete(r.owned, op.Service.Key.Normalize())
		}
	}
	return res, err
}

// applyChunk is how many ops go to the kernel between two looks at the context.
const applyChunk = 4096

// apply runs ops in order and returns which failed; the error joins the first failures.
func (r *Reconciler) apply(ctx context.Context, ops []Op) (Result, []bool, error) {
	res := Result{Ops: ops}
	failed := make([]bool, len(ops))
	var errs []error
	for base := 0; base < len(ops); base += applyChunk {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("IPVS reconcile interrupted after %d of %d ops: %w", base, len(ops), err))
			res.Ops = ops[:base]
			break
		}
		chunk := ops[base:min(base+applyChunk, len(ops))]
		for i, err := range r.kernel.Apply(chunk) {
			if err == nil {
				continue
			}
			res.Failed++
			failed[base+i] = true
			switch {
			case len(errs) < 20:
				errs = append(errs, fmt.Errorf("%s: %w", chunk[i], err))
			case len(errs) == 20:
				errs = append(errs, errors.New("further errors not shown"))
			}
		}
	}
	return res, failed, errors.Join(errs...)
}

// RemoveOwned deletes the services the reconciler owns from the kernel (on stop, unless
// keep_ipvs_on_stop). Services it does not own are left alone.
func (r *Reconciler) RemoveOwned(ctx context.Context) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	current, err := r.kernel.Services()
	if err != nil {
		return Result{}, fmt.Errorf("read IPVS table: %w", err)
	}
	ops := DiffOwned(nil, current, r.owned)
	r.applied = nil
	res, failed, err := r.apply(ctx, ops)
	for i, op := range res.Ops {
		if !failed[i] {
			delete(r.owned, op.Service.Key.Normalize())
			r.log.Info("IPVS service removed on stop", "op", op.String())
		}
	}
	if err == nil {
		clear(r.owned)
	}
	return res, err
}

// SetInterval changes how often a running Run repairs drift (DefaultInterval if 0), from
// its next period on.
func (r *Reconciler) SetInterval(d time.Duration) {
	for {
		select {
		case r.intervals <- d:
			return
		default:
		}
		select { // replace a value Run has not taken yet
		case <-r.intervals:
		default:
		}
	}
}

// DefaultInterval is how often Run repairs drift when no interval is given.
const DefaultInterval = 5 * time.Second

// Run reconciles on every table received from updates and every interval (DefaultInterval
// if 0), so that drift (someone ran ipvsadm -C) is repaired. It returns when ctx ends or
// updates is closed. Nothing is reconciled before the first table arrives. Errors are
// logged and retried at the next tick.
func (r *Reconciler) Run(ctx context.Context, updates <-chan Table, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var desired Table
	have := false
	for {
		cause := ""
		select {
		case <-ctx.Done():
			return ctx.Err()
		case d := <-r.intervals:
			if d <= 0 {
				d = DefaultInterval
			}
			tick.Reset(d)
			r.log.Info("IPVS drift check interval changed", "interval", d, "cause", "reload")
			continue
		case t, ok := <-updates:
			if !ok {
				return nil
			}
			// Coalesce a burst of updates: only the latest matters.
			for drained := false; !drained; {
				select {
				case t2, ok2 := <-updates:
					if !ok2 {
						drained = true
						updates = nil
						break
					}
					t = t2
				default:
					drained = true
				}
			}
			desired, have, cause = t, true, "desired table changed"
		case <-tick.C:
			if !have {
				continue
			}
			cause = "periodic check"
		}
		start := time.Now()
		pass := r.Reconcile
		if cause != "periodic check" {
			pass = r.ReconcileChanges
		}
		res, err := pass(ctx, desired)
		r.logResult(cause, res, time.Since(start))
		if err != nil {
			r.log.Error("IPVS reconcile failed", "cause", cause, "failed_ops", res.Failed, "err", err)
		}
		if updates == nil {
			// The channel was closed while draining: one final reconcile is done.
			return nil
		}
	}
}

func (r *Reconciler) logResult(cause string, res Result, took time.Duration) {
	if len(res.Ops) == 0 {
		r.log.Debug("IPVS in sync", "cause", cause, "took", took)
		return
	}
	msg := "IPVS table applied"
	if cause == "periodic check" {
		msg = "IPVS drift repaired"
	}
	const maxLogged = 50
	for i, op := range res.Ops {
		if i == maxLogged {
			r.log.Info(msg, "cause", cause, "op", fmt.Sprintf("... and %d more", len(res.Ops)-maxLogged))
			break
		}
		r.log.Info(msg, "cause", cause, "op", op.String())
	}
	r.log.Info("IPVS reconcile done", "cause", cause, "ops", len(res.Ops), "failed", res.Failed, "took", took)
}
