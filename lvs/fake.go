package lvs

import (
	"fmt"
	"sync"
	"syscall"
)

// FakeKernel is an in-memory IPVS table with the kernel's add/edit/delete semantics (EEXIST
// on a duplicate add, ESRCH on an edit or delete of something absent), for tests of the
// logic above Kernel. Edits keep a destination's counters, as the kernel does.
type FakeKernel struct {
	mu       sync.Mutex
	services []Service
	// Applied records every successful op's String(), in order.
	Applied []string
	// FailOn, when set, is asked before each op: a non-nil error fails the op.
	FailOn func(op Op) error
	// PartialReads counts the calls of ServicesOf.
	PartialReads int
}

var _ Kernel = (*FakeKernel)(nil)

// NewFakeKernel returns a fake holding a deep copy of t.
func NewFakeKernel(t Table) *FakeKernel {
	return &FakeKernel{services: t.clone()}
}

func (t Table) clone() Table {
	out := make(Table, len(t))
	for i, s := range t {
		s.Key = s.Key.normalize()
		s.Destinations = append([]Destination(nil), s.Destinations...)
		out[i] = s
	}
	return out
}

// Services returns a deep copy of the table.
func (f *FakeKernel) Services() (Table, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Table(f.services).clone(), nil
}

// ServicesOf returns a deep copy of the services of keys that exist.
func (f *FakeKernel) ServicesOf(keys []Key) (Table, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.PartialReads++
	var out Table
	for _, k := range keys {
		if i := f.find(k); i >= 0 {
			out = append(out, f.services[i])
		}
	}
	return out.clone(), nil
}

// Set replaces the table (e.g. to simulate `ipvsadm -C` or someone's edit).
func (f *FakeKernel) Set(t Table) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services = t.clone()
}

// Reset forgets the recorded ops.
func (f *FakeKernel) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Applied = nil
}

func (f *FakeKernel) find(k Key) int {
	k = k.normalize()
	for i := range f.services {
		if f.services[i].Key == k {
			return i
		}
	}
	return -1
}

// Apply performs ops on the in-memory table; errs[i] is the result of ops[i].
func (f *FakeKernel) Apply(ops []Op) []error {
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

func (f *FakeKernel) apply(op Op) error {
	if f.FailOn != nil {
		if err := f.FailOn(op); err != nil {
			return err
		}
	}
	i := f.find(op.Service.Key)
	switch op.Kind {
	case AddService:
		if i >= 0 {
			return syscall.EEXIST
		}
		s := *op.Service
		s.Key = s.Key.normalize()
		s.Scheduler = s.scheduler()
		s.Destinations = nil
		if s.Persistence == 0 {
			s.NetmaskBits = 0
		}
		f.services = append(f.services, s)
	case EditService:
		if i >= 0 {
			s := &f.services[i]
			s.Scheduler = op.Service.scheduler()
			s.Flags = op.Service.Flags
			s.Persistence = op.Service.Persistence
			s.NetmaskBits = op.Service.NetmaskBits
			if s.Persistence == 0 {
				s.NetmaskBits = 0
			}
			s.PEName = op.Service.PEName
		} else {
			return syscall.ESRCH
		}
	case DelService:
		if i < 0 {
			return syscall.ESRCH
		}
		f.services = append(f.services[:i], f.services[i+1:]...)
	case AddDest, EditDest, DelDest:
		if i < 0 {
			return syscall.ESRCH
		}
		s := &f.services[i]
		j := findDest(s.Destinations, op.Dest.key())
		switch op.Kind {
		case AddDest:
			if j >= 0 {
				return syscall.EEXIST
			}
			d := *op.Dest
			d.Addr = d.Addr.Unmap()
			s.Destinations = append(s.Destinations, d)
		case EditDest:
			if j < 0 {
				return syscall.ENOENT
			}
			d := &s.Destinations[j]
			d.Weight, d.Forward = op.Dest.Weight, op.Dest.Forward
			d.UpperThreshold, d.LowerThreshold = op.Dest.UpperThreshold, op.Dest.LowerThreshold
		case DelDest:
			if j < 0 {
				return syscall.ENOENT
			}
			s.Destinations = append(s.Destinations[:j], s.Destinations[j+1:]...)
		}
	default:
		return fmt.Errorf("unknown op kind %d", op.Kind)
	}
	f.Applied = append(f.Applied, op.String())
	return nil
}
