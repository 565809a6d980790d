package localnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// Manager installs and removes the localnode rules as the VRRP instances change state.
// Every method is safe for concurrent use; OnState calls are applied in call order.
type Manager struct {
	deps Deps
	log  *slog.Logger

	mu      sync.Mutex
	nodes   []*node
	started bool
}

type node struct {
	cfg       Config
	role      Role
	installed bool   // what role needs is in place
	err       string // last failure, "" after a success
	orig      string // backup_only: the sysctl's value before Start
	haveOrig  bool
}

// Status is one localnode block's state, for `lvsd status`.
type Status struct {
	Name      string
	Mode      string // fwmark | bypass | backup_only
	Role      string // MASTER or BACKUP (BACKUP also stands for FAULT and INIT)
	Installed bool   // the rules (or sysctl) the role needs are in place
	Error     string // the last failure, "" when the last change succeeded
}

// New checks the blocks (pure: nothing is read or changed on the system). The config
// package has already validated them; this repeats what the rules depend on, so that a
// Manager never builds a bad rule.
func New(cfgs []Config, deps Deps, log *slog.Logger) (*Manager, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{deps: deps, log: log.With("component", "localnode")}
	seen := map[string]bool{}
	backupOnly := ""
	var errs []error
	for _, c := range cfgs {
		if err := validate(c); err != nil {
			errs = append(errs, fmt.Errorf("localnode %q (%s): %w", c.Name, c.Where, err))
			continue
		}
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("localnode %q (%s): duplicate name", c.Name, c.Where))
			continue
		}
		seen[c.Name] = true
		switch c.Mode {
		case ModeBackupOnly:
			if backupOnly != "" {
				errs = append(errs, fmt.Errorf("localnode %q (%s): only one localnode may use mode backup_only (localnode %q does): the sysctl is one per network namespace", c.Name, c.Where, backupOnly))
				continue
			}
			backupOnly = c.Name
			if deps.Sysctl == nil {
				errs = append(errs, fmt.Errorf("localnode %q (%s): mode backup_only without a sysctl writer", c.Name, c.Where))
				continue
			}
		default:
			if deps.IPTables == nil {
				errs = append(errs, fmt.Errorf("localnode %q (%s): mode %s without iptables", c.Name, c.Where, c.Mode))
				continue
			}
		}
		m.nodes = append(m.nodes, &node{cfg: c, role: RoleBackup})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// usesIPTables reports whether any block has iptables rules.
func (m *Manager) usesIPTables() bool {
	for _, n := range m.nodes {
		if n.cfg.Mode != ModeBackupOnly {
			return true
		}
	}
	return false
}

// Start checks that the system has what every block needs (changing nothing when it does
// not), removes lvsd-tagged rules that a previous run left and that are not wanted now, and
// installs the rules of the BACKUP role (fwmark's mark, bypass's redirect, backup_only=1):
// every instance starts there until the daemon reports otherwise. Calling it again
// converges again. On failure, what this call installed is removed again.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.preflight(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.usesIPTables() {
		want := map[string]bool{}
		for _, n := range m.nodes {
			for _, r := range Rules(n.cfg, RoleBackup) {
				want[r.key()] = true
			}
		}
		tagged, err := m.listTagged()
		if err != nil {
			return err
		}
		for _, r := range tagged {
			if want[r.key()] {
				continue // already right (lvsd restarted): keep its counters, no gap
			}
			if err := m.deps.IPTables.Delete(r.Table, r.Chain, r.Spec...); err != nil {
				return fmt.Errorf("localnode: remove stale rule %s: %w", r, err)
			}
			m.log.Info("removed stale rule", "rule", r.String(), "cause", "left by an earlier run, not in the current config")
		}
	}
	var added []Rule
	var setSysctl []*node
	undo := func() {
		for _, r := range added {
			_ = m.deps.IPTables.Delete(r.Table, r.Chain, r.Spec...)
		}
		for _, n := range setSysctl {
			_ = m.deps.Sysctl.WriteSysctl(BackupOnlySysctl, n.orig)
		}
	}
	for _, n := range m.nodes {
		if n.cfg.Mode == ModeBackupOnly && !n.haveOrig {
			v, err := m.deps.Sysctl.ReadSysctl(BackupOnlySysctl)
			if err != nil {
				undo()
				return fmt.Errorf("localnode %q: read %s: %w", n.cfg.Name, BackupOnlySysctl, err)
			}
			n.orig, n.haveOrig = v, true
			setSysctl = append(setSysctl, n)
		}
		ins, err := m.apply(n, RoleBackup)
		added = append(added, ins...)
		if err != nil {
			undo()
			for _, n := range m.nodes {
				n.installed = false
			}
			return err
		}
		n.role, n.installed, n.err = RoleBackup, true, ""
		m.log.Info("installed", "localnode", n.cfg.Name, "mode", n.cfg.Mode.String(), "role", RoleBackup.String(), "cause", "start")
	}
	m.started = true
	return nil
}

// preflight checks every rule and setting any role may need, changing nothing.
func (m *Manager) preflight() error {
	if m.usesIPTables() {
		for _, c := range Chains {
			if _, err := m.deps.IPTables.List(c.Table, c.Chain); err != nil {
				return fmt.Errorf("localnode: cannot read iptables table %s chain %s: %w", c.Table, c.Chain, err)
			}
		}
	}
	for _, n := range m.nodes {
		if n.cfg.Mode == ModeBackupOnly {
			if _, err := m.deps.Sysctl.ReadSysctl(BackupOnlySysctl); err != nil {
				return fmt.Errorf("localnode %q (%s): mode backup_only needs the sysctl %s (IPVS loaded, kernel 3.9 or later): %w",
					n.cfg.Name, n.cfg.Where, BackupOnlySysctl, err)
			}
			continue
		}
		for _, r := range allRules(n.cfg) {
			if _, err := m.deps.IPTables.Exists(r.Table, r.Chain, r.Spec...); err != nil {
				return fmt.Errorf("localnode %q (%s): iptables cannot use the rule %s (it needs %s): %w",
					n.cfg.Name, n.cfg.Where, r, needs(n.cfg), err)
			}
		}
	}
	return nil
}

// listTagged returns every rule carrying lvsd's tag in the chains lvsd uses.
func (m *Manager) listTagged() ([]Rule, error) {
	var out []Rule
	for _, c := range Chains {
		lines, err := m.deps.IPTables.List(c.Table, c.Chain)
		if err != nil {
			return nil, fmt.Errorf("localnode: list iptables %s %s: %w", c.Table, c.Chain, err)
		}
		for _, l := range lines {
			r, ok, err := ParseRule(c.Table, l)
			if err != nil {
				return nil, err
			}
			if !ok || r.Chain != c.Chain {
				continue
			}
			if _, tagged := r.Tagged(); tagged {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// apply makes n's rules (or sysctl) those of role; it returns the rules it inserted.
func (m *Manager) apply(n *node, role Role) ([]Rule, error) {
	if n.cfg.Mode == ModeBackupOnly {
		v := "1"
		if role == RoleMaster {
			v = "0"
		}
		if err := m.deps.Sysctl.WriteSysctl(BackupOnlySysctl, v); err != nil {
			return nil, fmt.Errorf("localnode %q: set %s=%s: %w", n.cfg.Name, BackupOnlySysctl, v, err)
		}
		return nil, nil
	}
	want := Rules(n.cfg, role)
	wanted := map[string]bool{}
	var added []Rule
	ipt := m.deps.IPTables
	for _, r := range want {
		wanted[r.key()] = true
		ok, err := ipt.Exists(r.Table, r.Chain, r.Spec...)
		if err != nil {
			return added, fmt.Errorf("localnode %q: check rule %s: %w", n.cfg.Name, r, err)
		}
		if ok {
			continue
		}
		if err := ipt.Insert(r.Table, r.Chain, r.Spec...); err != nil {
			return added, fmt.Errorf("localnode %q: insert rule %s (needs %s): %w", n.cfg.Name, r, needs(n.cfg), err)
		}
		added = append(added, r)
	}
	for _, r := range allRules(n.cfg) {
		if wanted[r.key()] {
			continue
		}
		ok, err := ipt.Exists(r.Table, r.Chain, r.Spec...)
		if err != nil {
			return added, fmt.Errorf("localnode %q: check rule %s: %w", n.cfg.Name, r, err)
		}
		if !ok {
			continue
		}
		if err := ipt.Delete(r.Table, r.Chain, r.Spec...); err != nil {
			return added, fmt.Errorf("localnode %q: delete rule %s: %w", n.cfg.Name, r, err)
		}
	}
	return added, nil
}

// OnRole applies a VRRP transition of instance, as the role it means for localnode (the
// daemon maps VRRP states to roles: only MASTER balances; BACKUP, FAULT and a stopped
// instance are plain real servers), to the blocks that follow it. The daemon calls it in
// transition order, before the notify scripts. It runs a few iptables commands at most
// (milliseconds); failures are logged and shown by Status, and the next transition tries
// again. Before Start and after Stop it does nothing.
func (m *Manager) OnRole(instance string, role Role) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		return
	}
	for _, n := range m.nodes {
		if n.cfg.Instance != instance {
			continue
		}
		prev := n.role
		n.role = role
		if n.installed && (prev == role || n.cfg.Mode == ModeFWMark) {
			// fwmark's rule does not depend on the role: nothing to do once installed.
			continue
		}
		_, err := m.apply(n, role)
		if err != nil {
			n.installed, n.err = false, err.Error()
			m.log.Error("role change failed", "localnode", n.cfg.Name, "mode", n.cfg.Mode.String(),
				"role", role.String(), "cause", fmt.Sprintf("vrrp_instance %s became %s", instance, role), "err", err)
			continue
		}
		n.installed, n.err = true, ""
		m.log.Info("role changed", "localnode", n.cfg.Name, "mode", n.cfg.Mode.String(),
			"role", role.String(), "cause", fmt.Sprintf("vrrp_instance %s became %s", instance, role))
	}
}

// Stop removes every rule carrying lvsd's tag (also ones of blocks no longer configured)
// and restores backup_only to its value before Start. It returns every failure. It does
// not give up when ctx ends: a rule left behind would keep steering traffic after lvsd is
// gone, and the few iptables calls it makes are quick; ctx only makes it warn.
func (m *Manager) Stop(ctx context.Context) error {
	defer func() {
		if ctx.Err() != nil {
			m.log.Warn("removing localnode rules took longer than the stop allowed; finished anyway")
		}
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started = false
	var errs []error
	if m.usesIPTables() {
		tagged, err := m.listTagged()
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range tagged {
			if err := m.deps.IPTables.Delete(r.Table, r.Chain, r.Spec...); err != nil {
				errs = append(errs, fmt.Errorf("localnode: remove rule %s: %w", r, err))
				continue
			}
			m.log.Info("removed rule", "rule", r.String(), "cause", "stop")
		}
	}
	for _, n := range m.nodes {
		n.installed = false
		if n.cfg.Mode == ModeBackupOnly && n.haveOrig {
			if err := m.deps.Sysctl.WriteSysctl(BackupOnlySysctl, n.orig); err != nil {
				errs = append(errs, fmt.Errorf("localnode %q: restore %s=%s: %w", n.cfg.Name, BackupOnlySysctl, n.orig, err))
				continue
			}
			n.haveOrig = false
			m.log.Info("restored sysctl", "localnode", n.cfg.Name, "key", BackupOnlySysctl, "value", n.orig, "cause", "stop")
		}
	}
	return errors.Join(errs...)
}

// Status returns one entry per block, in configuration order.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.nodes))
	for _, n := range m.nodes {
		out = append(out, Status{Name: n.cfg.Name, Mode: n.cfg.Mode.String(), Role: n.role.String(),
			Installed: n.installed, Error: n.err})
	}
	return out
}

// Apply changes the blocks to cfgs (a reload), touching only what differs: a block whose
// rules are the same (same name, mode, VIP, port, protocol, peer MAC and mark; the
// instance it follows may have been renamed) keeps its rules untouched; a removed block's
// rules are deleted (backup_only: the sysctl is restored); a new or changed block gets
// the rules of the role its instance has now (roleOf). Everything the new blocks need is
// checked before anything changes; on error nothing has changed.
func (m *Manager) Apply(cfgs []Config, roleOf func(instance string) Role) error {
	next, err := New(cfgs, m.deps, m.log)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := map[string]*node{}
	for _, n := range m.nodes {
		old[n.cfg.Name] = n
	}
	same := func(a, b Config) bool {
		return a.Mode == b.Mode && slices.EqualFunc(allRules(a), allRules(b), func(x, y Rule) bool { return x.key() == y.key() })
	}
	var fresh []*node
	for i, n := range next.nodes {
		if o := old[n.cfg.Name]; o != nil && same(o.cfg, n.cfg) {
			o.cfg = n.cfg // a renamed instance: the rules do not name it
			next.nodes[i] = o
			delete(old, n.cfg.Name)
			continue
		}
		fresh = append(fresh, n)
	}
	// Preflight of the new rules (what the old ones needed was checked at their start).
	check := &Manager{deps: m.deps, log: m.log, nodes: fresh}
	if m.started {
		if err := check.preflight(); err != nil {
			return err
		}
	}
	var errs []error
	for _, o := range old { // removed or changed: their rules go
		if err := m.remove(o); err != nil {
			errs = append(errs, err)
		}
		m.log.Info("removed", "localnode", o.cfg.Name, "mode", o.cfg.Mode.String(), "cause", "reload")
	}
	m.nodes = next.nodes
	if !m.started {
		return errors.Join(errs...)
	}
	for _, n := range fresh {
		role := roleOf(n.cfg.Instance)
		if n.cfg.Mode == ModeBackupOnly && !n.haveOrig {
			v, err := m.deps.Sysctl.ReadSysctl(BackupOnlySysctl)
			if err != nil {
				errs = append(errs, fmt.Errorf("localnode %q: read %s: %w", n.cfg.Name, BackupOnlySysctl, err))
				continue
			}
			n.orig, n.haveOrig = v, true
		}
		if _, err := m.apply(n, role); err != nil {
			n.role, n.installed, n.err = role, false, err.Error()
			errs = append(errs, err)
			continue
		}
		n.role, n.installed, n.err = role, true, ""
		m.log.Info("installed", "localnode", n.cfg.Name, "mode", n.cfg.Mode.String(), "role", role.String(), "cause", "reload")
	}
	return errors.Join(errs...)
}

// remove deletes one block's rules (or restores its sysctl).
func (m *Manager) remove(n *node) error {
	n.installed = false
	if n.cfg.Mode == ModeBackupOnly {
		if !n.haveOrig {
			return nil
		}
		if err := m.deps.Sysctl.WriteSysctl(BackupOnlySysctl, n.orig); err != nil {
			return fmt.Errorf("localnode %q: restore %s=%s: %w", n.cfg.Name, BackupOnlySysctl, n.orig, err)
		}
		n.haveOrig = false
		return nil
	}
	var errs []error
	for _, r := range allRules(n.cfg) {
		ok, err := m.deps.IPTables.Exists(r.Table, r.Chain, r.Spec...)
		if err == nil && ok {
			err = m.deps.IPTables.Delete(r.Table, r.Chain, r.Spec...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("localnode %q: remove rule %s: %w", n.cfg.Name, r, err))
		}
	}
	return errors.Join(errs...)
}
