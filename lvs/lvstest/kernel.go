// Package lvstest provides an in-memory IPVS table for tests of code that drives an
// lvs.Kernel, in the style of net/http/httptest. It is not for production use.
package lvstest

import (
	"fmt"
	"sync"
	"syscall"

	"github.com/lvsd/lvsd/lvs"
)

// Kernel is an in-memory IPVS table with the kernel's add/edit/delete semantics (EEXIST
// on a duplicate add, ESRCH on an edit or delete of something absent), for tests of the
// logic above lvs.Kernel. Edits keep a destination's counters, as the kernel does.
type Kernel struct {
	mu       sync.Mutex
	services lvs.Table
	// Applied records every successful op's String(), in order.
	Applied []string
	// FailOn, when set, is asked before each op: a non-nil error fails the op.
	FailOn func(op lvs.Op) error
	// PartialReads counts the calls of ServicesOf.
	PartialReads int
}

var (
	_ lvs.Kernel        = (*Kernel)(nil)
	_ lvs.ServiceReader = (*Kernel)(nil)
)

// NewKernel returns a fake kernel holding a deep copy of t.
func NewKernel(t lvs.Table) *Kernel {
	return &Kernel{services: t.Clone()}
}

// Services returns a deep copy of the table.
func (f *Kernel) Services() (lvs.Table, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.services.Clone(), nil
}

// ServicesOf returns a deep copy of the services of keys that exist.
func (f *Kernel) ServicesOf(keys []lvs.Key) (lvs.Table, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.PartialReads++
	var out lvs.Table
	for _, k := range keys {
		if i := f.find(k); i >= 0 {
			out = append(out, f.services[i])
		}
	}
	return out.Clone(), nil
}

// Set replaces the table (e.g. to simulate `ipvsadm -C` or someone's edit).
func (f *Kernel) Set(t lvs.Table) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services = t.Clone()
}

// Reset forgets the recorded ops.
func (f *Kernel) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Applied = nil
}

func (f *Kernel) find(k lvs.Key) int {
	k = k.Normalize()
	for i := range f.services {
		if f.services[i].Key == k {
			return i
		}
	}
	return -1
}

// findDest returns the index of the destination at d's address and port, or -1.
func findDest(ds []lvs.Destination, d *lvs.Destination) int {
	for i := range ds {
		if ds[i].Port == d.Port && ds[i].Addr.Unmap() == d.Addr.Unmap() {
			return i
		}
	}
	return -1
}

// scheduler is the scheduler the kernel ends up with: the default when none is named.
func scheduler(s *lvs.Service) string {
	if s.Scheduler == "" {
		return lvs.DefaultScheduler
	}
	return s.Scheduler
}

// Apply performs ops on the in-memory table; errs[i] is the result of ops[i].
func (f *Kernel) Apply(ops []lvs.Op) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for i, op := range ops {
		if err := f.apply(op); err != nil {
			if errs == nil {
				errs = make([]error, len(ops))
			}
			errs[i] = err
		}
	}
	return errs
}

func (f *Kernel) apply(op lvs.Op) error {
	if f.FailOn != nil {
		if err := f.FailOn(op); err != nil {
			return err
		}
	}
	i := f.find(op.Service.Key)
	switch op.Kind {
	case lvs.AddService:
		if i >= 0 {
			return syscall.EEXIST
		}
		s := *op.Service
		s.Key = s.Key.Normalize()
		s.Scheduler = scheduler(op.Service)
		s.Destinations = nil
		if s.Persistence == 0 {
			s.NetmaskBits = 0
		}
		f.services = append(f.services, s)
	case lvs.EditService:
		if i < 0 {
			return syscall.ESRCH
		}
		s := &f.services[i]
		s.Scheduler = scheduler(op.Service)
		s.Flags = op.Service.Flags
		s.Persistence = op.Service.Persistence
		s.NetmaskBits = op.Service.NetmaskBits
		if s.Persistence == 0 {
			s.NetmaskBits = 0
		}
		s.PEName = op.Service.PEName
	case lvs.DelService:
		if i < 0 {
			return syscall.ESRCH
		}
		f.services = append(f.services[:i], f.services[i+1:]...)
	case lvs.AddDest, lvs.EditDest, lvs.DelDest:
		if i < 0 {
			return syscall.ESRCH
		}
		return f.applyDest(&f.services[i], op)
	default:
		return fmt.Errorf("unknown op kind %d", op.Kind)
	}
	f.Applied = append(f.Applied, op.String())
	return nil
}

func (f *Kernel) applyDest(s *lvs.Service, op lvs.Op) error {
	j := findDest(s.Destinations, op.Dest)
	switch op.Kind {
	case lvs.AddDest:
		if j >= 0 {
			return syscall.EEXIST
		}
		d := *op.Dest
		d.Addr = d.Addr.Unmap()
		s.Destinations = append(s.Destinations, d)
	case lvs.EditDest:
		if j < 0 {
			return syscall.ENOENT
		}
		d := &s.Destinations[j]
		d.Weight, d.Forward = op.Dest.Weight, op.Dest.Forward
		d.UpperThreshold, d.LowerThreshold = op.Dest.UpperThreshold, op.Dest.LowerThreshold
	case lvs.DelDest:
		if j < 0 {
			return syscall.ENOENT
		}
		s.Destinations = append(s.Destinations[:j], s.Destinations[j+1:]...)
	}
	f.Applied = append(f.Applied, op.String())
	return nil
}
