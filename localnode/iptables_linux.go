package localnode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// goIPTables is IPTables over github.com/coreos/go-iptables (IPv4), which runs the
// `iptables` command: rules land in the network namespace of the calling thread, and the
// command picks its own backend (nf_tables or legacy) as it does for users.
type goIPTables struct{ ipt *iptables.IPTables }

var _ IPTables = goIPTables{}

// lockWait is how long iptables waits for the xtables lock (-w) before failing.
const lockWait = 5 // seconds

// NewIPTables finds the iptables command (IPv4). It fails, naming what is missing, when
// there is none on the PATH.
func NewIPTables() (IPTables, error) {
	return newIPTablesAt("")
}

// newIPTablesAt uses the iptables command at path ("" = look it up on the PATH).
func newIPTablesAt(path string) (IPTables, error) {
	var ipt *iptables.IPTables
	var err error
	if path == "" {
		ipt, err = iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(lockWait))
	} else {
		ipt, err = iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(lockWait), iptables.Path(path))
	}
	if err != nil {
		return nil, fmt.Errorf("iptables command (needed by localnode modes fwmark and bypass): %w", err)
	}
	return goIPTables{ipt}, nil
}

func (g goIPTables) Exists(table, chain string, spec ...string) (bool, error) {
	return g.ipt.Exists(table, chain, spec...)
}

func (g goIPTables) Insert(table, chain string, spec ...string) error {
	return g.ipt.Insert(table, chain, 1, spec...)
}

func (g goIPTables) Delete(table, chain string, spec ...string) error {
	return g.ipt.Delete(table, chain, spec...)
}

func (g goIPTables) List(table, chain string) ([]string, error) {
	return g.ipt.List(table, chain)
}

// ProcSys reads and writes settings under /proc/sys (Root, default "/proc/sys"): in effect
// in the network namespace of the process.
type ProcSys struct{ Root string }

var _ Sysctl = ProcSys{}

func (p ProcSys) path(key string) string {
	root := p.Root
	if root == "" {
		root = "/proc/sys"
	}
	return filepath.Join(root, strings.ReplaceAll(key, ".", "/"))
}

func (p ProcSys) ReadSysctl(key string) (string, error) {
	b, err := os.ReadFile(p.path(key))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p.path(key), err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (p ProcSys) WriteSysctl(key, value string) error {
	if err := os.WriteFile(p.path(key), []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p.path(key), err)
	}
	return nil
}

// LinuxDeps returns the real effects: the iptables command and /proc/sys. When there is no
// iptables command, the IPTables returned fails every call with the lookup's error, so
// that Start reports it (before changing anything) only if a block needs iptables.
func LinuxDeps() Deps {
	ipt, err := NewIPTables()
	if err != nil {
		ipt = unavailableIPTables{err}
	}
	return Deps{IPTables: ipt, Sysctl: ProcSys{}}
}

// unavailableIPTables stands for a missing iptables command.
type unavailableIPTables struct{ err error }

func (u unavailableIPTables) Exists(string, string, ...string) (bool, error) { return false, u.err }
func (u unavailableIPTables) Insert(string, string, ...string) error         { return u.err }
func (u unavailableIPTables) Delete(string, string, ...string) error         { return u.err }
func (u unavailableIPTables) List(string, string) ([]string, error)          { return nil, u.err }
