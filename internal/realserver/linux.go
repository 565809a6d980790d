package realserver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/lvsd/lvsd/lvs"
)

// Reader gathers facts from the kernel.
type Reader interface {
	Links() ([]Link, error)
	// ReadSysctl returns a setting's value; an error wrapping fs.ErrNotExist when the
	// setting does not exist (e.g. an interface that is not there).
	ReadSysctl(key string) (string, error)
	Listeners() ([]Listener, error)
}

// Applier makes one change.
type Applier interface {
	Apply(c Change) error
}

// Kernel is the real Reader and Applier: netlink, /proc/sys and modprobe, in the network
// namespace of the calling thread.
type Kernel struct{}

var (
	_ Reader  = Kernel{}
	_ Applier = Kernel{}
)

// Links lists every link with its addresses.
func (Kernel) Links() ([]Link, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	out := make([]Link, 0, len(links))
	for _, l := range links {
		attrs := l.Attrs()
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", attrs.Name, err)
		}
		ln := Link{Name: attrs.Name, Up: attrs.Flags&net.FlagUp != 0}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			bits, _ := a.Mask.Size()
			ln.Addrs = append(ln.Addrs, netip.PrefixFrom(ip.Unmap(), bits))
		}
		out = append(out, ln)
	}
	return out, nil
}

// ReadSysctl reads the key's file under /proc/sys.
func (Kernel) ReadSysctl(key string) (string, error) {
	b, err := os.ReadFile(lvs.SysctlPath("", key))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Listeners reads the listening TCP sockets of the calling thread's network namespace
// (thread-self, not self: /proc/self/net is the main thread's namespace).
func (Kernel) Listeners() ([]Listener, error) {
	var out []Listener
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/thread-self/net/" + name)
		if errors.Is(err, fs.ErrNotExist) && name == "tcp6" {
			continue // IPv6 not built or disabled
		}
		if err != nil {
			return nil, fmt.Errorf("read listeners: %w", err)
		}
		ls, err := ParseProcNetTCP(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("/proc/net/%s: %w", name, err)
		}
		out = append(out, ls...)
	}
	return out, nil
}

// Apply makes c.
func (Kernel) Apply(c Change) error {
	switch c.Kind {
	case SetSysctl:
		return lvs.ProcSys{}.WriteSysctl(c.Key, c.Value)
	case AddAddr, DelAddr:
		l, err := netlink.LinkByName(c.Dev)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: c.Prefix.Addr().AsSlice(), Mask: net.CIDRMask(c.Prefix.Bits(), c.Prefix.Addr().BitLen())}}
		if c.Kind == AddAddr {
			err = netlink.AddrAdd(l, addr)
		} else {
			err = netlink.AddrDel(l, addr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		return nil
	case LinkUp, LinkDown:
		l, err := netlink.LinkByName(c.Dev)
		if err == nil {
			if c.Kind == LinkUp {
				err = netlink.LinkSetUp(l)
			} else {
				err = netlink.LinkSetDown(l)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		return nil
	case LoadModule:
		if out, err := exec.Command("modprobe", c.Key).CombinedOutput(); err != nil {
			return fmt.Errorf("modprobe %s: %w: %s", c.Key, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	return fmt.Errorf("unknown change %q", c.Kind)
}
