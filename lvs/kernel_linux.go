package lvs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
)

// ErrNoIPVS is wrapped by CheckAvailable and OpenIPVS when the kernel has no IPVS.
var ErrNoIPVS = errors.New("IPVS is not available in this kernel")

// CheckAvailable verifies that the kernel answers for the "IPVS" generic netlink family.
// moby/ipvs does not: without the family it sends its requests to family 0 and reports
// success while doing nothing (moby/ipvs issue 27). If the family is missing it tries
// `modprobe ip_vs` once, as keepalived does, and looks again.
func CheckAvailable() error {
	if _, err := netlink.GenlFamilyGet("IPVS"); err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = exec.CommandContext(ctx, "modprobe", "-q", "ip_vs").Run() // best effort; the re-check decides
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		return fmt.Errorf("%w (generic netlink family IPVS not found: %v): load it with `modprobe ip_vs` or use a kernel with CONFIG_IP_VS", ErrNoIPVS, err)
	}
	return nil
}

// MobyIPVS is a Kernel over moby/ipvs, one netlink round trip per operation and per
// service read. IPVS (netlink_linux.go) is the one lvsd uses: it batches and is several
// times faster at scale; MobyIPVS stays as an independent reading of the kernel for the
// in-VM tests of that codec. A moby/ipvs handle is not safe for concurrent use: calls are
// serialized.
type MobyIPVS struct {
	mu sync.Mutex
	h  *ipvs.Handle
}

var _ Kernel = (*MobyIPVS)(nil)

// OpenMobyIPVS checks that IPVS is available and opens a moby/ipvs handle.
func OpenMobyIPVS() (*MobyIPVS, error) {
	if err := CheckAvailable(); err != nil {
		return nil, err
	}
	h, err := ipvs.New("")
	if err != nil {
		return nil, fmt.Errorf("open IPVS netlink handle: %w", err)
	}
	return &MobyIPVS{h: h}, nil
}

// Close releases the netlink socket.
func (k *MobyIPVS) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.h != nil {
		k.h.Close()
		k.h = nil
	}
}

// Services reads every service and its destinations, with counters.
func (k *MobyIPVS) Services() (Table, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.h == nil {
		return nil, errors.New("IPVS handle closed")
	}
	svcs, err := k.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("list IPVS services: %w", err)
	}
	out := make(Table, 0, len(svcs))
	for _, s := range svcs {
		ds, err := k.h.GetDestinations(s)
		if err != nil {
			svc := FromIPVS(s, nil)
			return nil, fmt.Errorf("list real servers of %s: %w", svc.Key, err)
		}
		out = append(out, FromIPVS(s, ds))
	}
	return out, nil
}

// Apply performs ops one by one; errs[i] is the result of ops[i] (nil: all succeeded).
func (k *MobyIPVS) Apply(ops []Op) []error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	for i, op := range ops {
		if err := k.apply(op); err != nil {
			if errs == nil {
				errs = make([]error, len(ops))
			}
			errs[i] = err
		}
	}
	return errs
}

func (k *MobyIPVS) apply(op Op) error {
	if k.h == nil {
		return errors.New("IPVS handle closed")
	}
	s := ToIPVS(op.Service)
	switch op.Kind {
	case AddService:
		return k.h.NewService(s)
	case EditService:
		return k.h.UpdateService(s)
	case DelService:
		return k.h.DelService(s)
	case AddDest:
		return k.h.NewDestination(s, ToIPVSDest(op.Dest))
	case EditDest:
		return k.h.UpdateDestination(s, ToIPVSDest(op.Dest))
	case DelDest:
		return k.h.DelDestination(s, ToIPVSDest(op.Dest))
	}
	return fmt.Errorf("unknown op kind %d", op.Kind)
}

// List writes the kernel's IPVS table in `ipvsadm -Ln` layout (for `lvsd ipvs list`).
func List(w io.Writer, o ListOptions) error {
	t, err := readTable()
	if err != nil {
		return err
	}
	return WriteList(w, t, o)
}

// Save writes the kernel's IPVS table in `ipvsadm-save -n` format (for `lvsd ipvs save`).
func Save(w io.Writer) error {
	t, err := readTable()
	if err != nil {
		return err
	}
	return WriteSave(w, t)
}

// readTable reads the whole IPVS table once, over a handle of its own.
func readTable() (Table, error) {
	k, err := OpenIPVS()
	if err != nil {
		return nil, err
	}
	defer k.Close()
	return k.Services()
}
