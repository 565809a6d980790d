package localnode

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

const (
	markRule   = "-d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m mac ! --mac-source 08:00:27:e1:3c:c5 -m comment --comment lvsd:localnode:web -j MARK --set-xmark 0x3/0xffffffff"
	redirRule  = "-d 172.16.0.31/32 -p tcp -m tcp --dport 80 -m comment --comment lvsd:localnode:api -j REDIRECT"
	foreignNat = "-d 10.0.0.1/32 -p tcp -m tcp --dport 22 -j REDIRECT"
	foreignMgl = "-i eth0 -j MARK --set-xmark 0x9/0xffffffff"
)

type chainState struct{ mangle, nat []string }

func snapshot(f *FakeIPTables) chainState {
	return chainState{f.Rules("mangle", "PREROUTING"), f.Rules("nat", "PREROUTING")}
}

func twoNodes(t *testing.T) []Config {
	by := bypassNode()
	by.Name, by.VIP, by.Instance = "api", netip.MustParseAddr("172.16.0.31"), "VI_2"
	return []Config{fwmarkNode(t), by}
}

func insertForeign(t *testing.T, f *FakeIPTables) {
	t.Helper()
	if err := f.Insert("nat", "PREROUTING", strings.Fields(foreignNat)...); err != nil {
		t.Fatal(err)
	}
	if err := f.Insert("mangle", "PREROUTING", strings.Fields(foreignMgl)...); err != nil {
		t.Fatal(err)
	}
}

// The exact rule sets after each step of a life: start, BACKUP, MASTER, FAULT, MASTER,
// stop, with foreign rules around that must never move.
func TestManagerTransitions(t *testing.T) {
	f := NewFakeIPTables()
	insertForeign(t, f)
	m, err := New(twoNodes(t), Deps{IPTables: f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	backup := chainState{[]string{markRule, foreignMgl}, []string{redirRule, foreignNat}}
	master := chainState{[]string{markRule, foreignMgl}, []string{foreignNat}}
	steps := []struct {
		name string
		do   func()
		want chainState
	}{
		{"start", func() {
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}, backup},
		{"VI_2 BACKUP", func() { m.OnRole("VI_2", RoleBackup) }, backup},
		{"VI_2 MASTER", func() { m.OnRole("VI_2", RoleMaster) }, master},
		{"other instance MASTER", func() { m.OnRole("VI_9", RoleBackup) }, master},
		{"VI_1 MASTER (fwmark: no change)", func() { m.OnRole("VI_1", RoleMaster) }, master},
		{"VI_2 FAULT", func() { m.OnRole("VI_2", RoleBackup) }, backup},
		{"VI_2 MASTER again", func() { m.OnRole("VI_2", RoleMaster) }, master},
		{"VI_2 MASTER repeated", func() { m.OnRole("VI_2", RoleMaster) }, master},
		{"VI_2 INIT (instance stopped)", func() { m.OnRole("VI_2", RoleBackup) }, backup},
		{"stop", func() {
			if err := m.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		}, chainState{[]string{foreignMgl}, []string{foreignNat}}},
		{"after stop: ignored", func() { m.OnRole("VI_2", RoleBackup) }, chainState{[]string{foreignMgl}, []string{foreignNat}}},
	}
	for _, s := range steps {
		s.do()
		if got := snapshot(f); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("after %s:\n got %q\nwant %q", s.name, got, s.want)
		}
	}
}

func TestManagerStatus(t *testing.T) {
	f := NewFakeIPTables()
	m, err := New(twoNodes(t), Deps{IPTables: f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.OnRole("VI_2", RoleMaster)
	want := []Status{
		{Name: "web", Mode: "fwmark", Role: "BACKUP", Installed: true},
		{Name: "api", Mode: "bypass", Role: "MASTER", Installed: true},
	}
	if got := m.Status(); !reflect.DeepEqual(got, want) {
		t.Errorf("Status() = %+v, want %+v", got, want)
	}
	// A failing transition is reported, and the next one repairs it.
	f.Fail["delete nat"] = errors.New("iptables: resource busy")
	m.OnRole("VI_2", RoleBackup)
	m.OnRole("VI_2", RoleMaster)
	st := m.Status()[1]
	if st.Installed || !strings.Contains(st.Error, "resource busy") || st.Role != "MASTER" {
		t.Errorf("after a failed delete: %+v", st)
	}
	delete(f.Fail, "delete nat")
	m.OnRole("VI_2", RoleMaster)
	if st := m.Status()[1]; !st.Installed || st.Error != "" {
		t.Errorf("after the repair: %+v", st)
	}
	if got := f.Rules("nat", "PREROUTING"); len(got) != 0 {
		t.Errorf("nat after repair to MASTER: %q", got)
	}
}

// At start, tagged rules a crash left behind go unless they are exactly what is wanted
// now; foreign rules stay; running Start twice changes nothing the second time.
func TestManagerStartRemovesStale(t *testing.T) {
	f := NewFakeIPTables()
	insertForeign(t, f)
	stale := []string{
		"-d 172.16.0.99/32 -p tcp -m tcp --dport 80 -m comment --comment lvsd:localnode:old -j REDIRECT",   // block gone
		"-d 172.16.0.31/32 -p tcp -m tcp --dport 8080 -m comment --comment lvsd:localnode:api -j REDIRECT", // port changed
	}
	for _, s := range stale {
		if err := f.Insert("nat", "PREROUTING", strings.Fields(s)...); err != nil {
			t.Fatal(err)
		}
	}
	// The mark rule as a previous run left it (uppercase MAC, as iptables-legacy prints).
	if err := f.Insert("mangle", "PREROUTING", strings.Fields(strings.ReplaceAll(markRule, "e1:3c:c5", "E1:3C:C5"))...); err != nil {
		t.Fatal(err)
	}
	m, err := New(twoNodes(t), Deps{IPTables: f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Calls = nil
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := chainState{[]string{strings.ReplaceAll(markRule, "e1:3c:c5", "E1:3C:C5"), foreignMgl}, []string{redirRule, foreignNat}}
	if got := snapshot(f); !reflect.DeepEqual(got, want) {
		t.Fatalf("after start:\n got %q\nwant %q", got, want)
	}
	if want := []string{"delete nat PREROUTING", "delete nat PREROUTING", "insert nat PREROUTING"}; !reflect.DeepEqual(f.Calls, want) {
		t.Errorf("calls %q, want %q (the right mark rule kept)", f.Calls, want)
	}
	f.Calls = nil
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(f.Calls) != 0 {
		t.Errorf("second Start changed %q", f.Calls)
	}
}

// A missing feature fails Start before anything changes, naming what is missing.
func TestManagerPreflight(t *testing.T) {
	f := NewFakeIPTables()
	insertForeign(t, f)
	stale := "-d 172.16.0.99/32 -p tcp -m comment --comment lvsd:localnode:old -j REDIRECT"
	if err := f.Insert("nat", "PREROUTING", strings.Fields(stale)...); err != nil {
		t.Fatal(err)
	}
	before := snapshot(f)
	f.Fail["exists mangle"] = errors.New("iptables v1.8.9 (nf_tables): Couldn't load match `mac':No such file or directory")
	m, err := New(twoNodes(t), Deps{IPTables: f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "match mac") || !strings.Contains(err.Error(), `localnode "web"`) {
		t.Fatalf("Start = %v, want an error naming the mac match and the block", err)
	}
	if got := snapshot(f); !reflect.DeepEqual(got, before) {
		t.Errorf("preflight failure changed the rules:\n got %q\nwant %q", got, before)
	}
	if st := m.Status(); st[0].Installed || st[1].Installed {
		t.Errorf("status after failed start: %+v", st)
	}
	m.OnRole("VI_2", RoleBackup) // not started: nothing happens
	if got := snapshot(f); !reflect.DeepEqual(got, before) {
		t.Errorf("OnState before a successful Start changed rules: %q", got)
	}

	// No table at all (no iptables kernel support).
	f2 := NewFakeIPTables()
	f2.Fail["list nat"] = errors.New("iptables: can't initialize iptables table `nat': Table does not exist")
	m2, _ := New(twoNodes(t), Deps{IPTables: f2}, nil)
	if err := m2.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "table nat") {
		t.Errorf("Start without nat = %v", err)
	}

	// An insert failing half-way (kernel lacks the REDIRECT target): what this Start
	// inserted is removed again.
	f3 := NewFakeIPTables()
	f3.Fail["insert nat"] = errors.New("iptables: No chain/target/match by that name")
	m3, _ := New(twoNodes(t), Deps{IPTables: f3}, nil)
	if err := m3.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "target REDIRECT") {
		t.Errorf("Start with a failing insert = %v", err)
	}
	if got := snapshot(f3); len(got.mangle)+len(got.nat) != 0 {
		t.Errorf("failed Start left rules: %q", got)
	}
}

func TestManagerBackupOnly(t *testing.T) {
	sys := &FakeSysctl{Values: map[string]string{BackupOnlySysctl: "0"}}
	ln := Config{Name: "web", Instance: "VI_1", Mode: ModeBackupOnly}
	m, err := New([]Config{ln}, Deps{Sysctl: sys}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Role{RoleBackup, RoleMaster, RoleBackup, RoleMaster, RoleBackup} { // BACKUP MASTER FAULT MASTER INIT
		m.OnRole("VI_1", r)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"1", "0", "1", "0", "1", "0"} // start, (BACKUP: unchanged), MASTER, FAULT, MASTER, INIT, stop restores 0
	var got []string
	for _, w := range sys.Writes {
		got = append(got, strings.TrimPrefix(w, BackupOnlySysctl+"="))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writes %q, want %q", got, want)
	}

	// The original value is restored, whatever it was.
	sys = &FakeSysctl{Values: map[string]string{BackupOnlySysctl: "1"}}
	m, _ = New([]Config{ln}, Deps{Sysctl: sys}, nil)
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m.OnRole("VI_1", RoleMaster)
	if v := sys.Get(BackupOnlySysctl); v != "0" {
		t.Errorf("MASTER: backup_only=%s", v)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if v := sys.Get(BackupOnlySysctl); v != "1" {
		t.Errorf("after stop: backup_only=%s, want the original 1", v)
	}

	// No such sysctl (IPVS not loaded, kernel older than 3.9): a clear error, nothing written.
	sys = &FakeSysctl{Values: map[string]string{}}
	m, _ = New([]Config{ln}, Deps{Sysctl: sys}, nil)
	err = m.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), BackupOnlySysctl) || !strings.Contains(err.Error(), "kernel 3.9") {
		t.Errorf("Start without the sysctl = %v", err)
	}
	if len(sys.Writes) != 0 {
		t.Errorf("wrote %q", sys.Writes)
	}
}

func TestNewErrors(t *testing.T) {
	bo := Config{Name: "a", Instance: "VI_1", Mode: ModeBackupOnly}
	bo2 := bo
	bo2.Name = "b"
	bad := bypassNode()
	bad.VIP = netip.Addr{}
	tests := []struct {
		name string
		cfgs []Config
		deps Deps
		want string
	}{
		{"ok", []Config{fwmarkNode(t), bo}, Deps{IPTables: NewFakeIPTables(), Sysctl: &FakeSysctl{}}, ""},
		{"none", nil, Deps{}, ""},
		{"duplicate", []Config{fwmarkNode(t), bypassNode()}, Deps{IPTables: NewFakeIPTables()}, "duplicate name"},
		{"two backup_only", []Config{bo, bo2}, Deps{Sysctl: &FakeSysctl{}}, "only one localnode may use mode backup_only"},
		{"no iptables", []Config{bypassNode()}, Deps{}, "without iptables"},
		{"no sysctl", []Config{bo}, Deps{}, "without a sysctl"},
		{"invalid", []Config{bad}, Deps{IPTables: NewFakeIPTables()}, "needs a vip"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfgs, tt.deps, nil)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: New = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// Without an iptables command, Start names it, and a backup_only-only config does not care.
func TestLinuxDepsWithoutIPTables(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	deps := LinuxDeps()
	m, err := New([]Config{bypassNode()}, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "iptables command") || !strings.Contains(err.Error(), "executable file not found") {
		t.Errorf("Start = %v, want the missing iptables command named", err)
	}
	if _, err := New([]Config{{Name: "b", Instance: "VI_1", Mode: ModeBackupOnly}}, deps, nil); err != nil {
		t.Errorf("backup_only without iptables: %v", err)
	}
}
