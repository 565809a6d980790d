package realserver

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeHost is an in-memory kernel: links, sysctls and listeners.
type fakeHost struct {
	links     []Link
	sysctls   map[string]string
	listeners []Listener
	applied   []Change
	failOn    ChangeKind // Apply fails for this kind
	modules   func(h *fakeHost)
}

var _ Host = (*fakeHost)(nil)

func newFakeHost() *fakeHost {
	h := &fakeHost{
		links: []Link{
			{Name: "lo", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
			{Name: "eth0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.11/24")}},
		},
		sysctls: map[string]string{},
	}
	for _, dev := range []string{"all", "lo", "eth0"} {
		h.sysctls[confKey(dev, "arp_ignore")] = "0"
		h.sysctls[confKey(dev, "arp_announce")] = "0"
		h.sysctls[confKey(dev, "rp_filter")] = "2"
	}
	return h
}

func (h *fakeHost) Links() ([]Link, error) { return h.links, nil }
func (h *fakeHost) ReadSysctl(k string) (string, error) {
	v, ok := h.sysctls[k]
	if !ok {
		return "", fmt.Errorf("read %s: %w", k, fs.ErrNotExist)
	}
	return v, nil
}
func (h *fakeHost) Listeners() ([]Listener, error) { return h.listeners, nil }

func (h *fakeHost) link(name string) *Link {
	for i := range h.links {
		if h.links[i].Name == name {
			return &h.links[i]
		}
	}
	return nil
}

func (h *fakeHost) Apply(c Change) error {
	if c.Kind == h.failOn {
		return fmt.Errorf("%s: injected failure", c)
	}
	h.applied = append(h.applied, c)
	switch c.Kind {
	case SetSysctl:
		h.sysctls[c.Key] = c.Value
	case AddAddr:
		l := h.link(c.Dev)
		l.Addrs = append(l.Addrs, c.Prefix)
	case DelAddr:
		l := h.link(c.Dev)
		l.Addrs = slices.DeleteFunc(l.Addrs, func(p netip.Prefix) bool { return p == c.Prefix })
	case LinkUp, LinkDown:
		h.link(c.Dev).Up = c.Kind == LinkUp
	case LoadModule:
		if h.modules == nil {
			return fmt.Errorf("modprobe %s: not found", c.Key)
		}
		h.modules(h)
	}
	return nil
}

func (h *fakeHost) snapshot() string {
	var b strings.Builder
	for _, l := range h.links {
		fmt.Fprintf(&b, "%s up=%v %v\n", l.Name, l.Up, l.Addrs)
	}
	for _, k := range sortedKeys(h.sysctls) {
		fmt.Fprintf(&b, "%s=%s\n", k, h.sysctls[k])
	}
	return b.String()
}

func dr(vips ...string) Options {
	o := Options{Mode: ModeDR}
	for _, v := range vips {
		o.VIPs = append(o.VIPs, netip.MustParseAddr(v))
	}
	return o
}

func TestSetupTeardownRestoresExactly(t *testing.T) {
	h := newFakeHost()
	h.sysctls[confKey("eth0", "arp_announce")] = "1" // a value of the admin's own
	h.sysctls[confKey("all", "arp_ignore")] = "1"    // already right: setup leaves it alone
	before := h.snapshot()
	state := filepath.Join(t.TempDir(), "rs.json")
	o := dr("192.0.2.10", "2001:db8::10")
	var out bytes.Buffer
	if err := Setup(h, o, state, false, &out); err != nil {
		t.Fatal(err)
	}
	if got := len(h.applied); got != 5 { // 3 sysctls + 2 addresses
		t.Fatalf("setup made %d changes, want 5:\n%s", got, out.String())
	}
	// ARP settings before any VIP appears.
	if h.applied[0].Kind != SetSysctl || h.applied[len(h.applied)-1].Kind != AddAddr {
		t.Errorf("order: %v", h.applied)
	}
	if f := Check(o, mustGather(t, h, o), nil); len(f) != 0 {
		t.Errorf("check after setup: %v", f)
	}
	st, _ := LoadState(state)
	if _, ok := st.Sysctls[confKey("all", "arp_ignore")]; ok {
		t.Errorf("state remembers a setting setup did not change: %v", st.Sysctls)
	}
	h.applied = nil
	out.Reset()
	if err := Setup(h, o, state, false, &out); err != nil || len(h.applied) != 0 {
		t.Fatalf("second setup: err %v, changes %v", err, h.applied)
	}
	if !strings.Contains(out.String(), "nothing to change") {
		t.Errorf("second setup said %q", out.String())
	}
	// The admin raises a value after setup: teardown still restores the pre-setup value.
	if err := Teardown(h, nil, state, &out); err != nil {
		t.Fatal(err)
	}
	if got := h.snapshot(); got != before {
		t.Errorf("after teardown:\n%s\nwant:\n%s", got, before)
	}
	if st, _ := LoadState(state); !st.Empty() {
		t.Errorf("state left after teardown: %+v", st)
	}
	h.applied = nil
	if err := Teardown(h, nil, state, &out); err != nil || len(h.applied) != 0 {
		t.Errorf("second teardown: err %v, changes %v", err, h.applied)
	}
}

func TestTeardownKeepsForeignAddress(t *testing.T) {
	h := newFakeHost()
	h.link("lo").Addrs = append(h.link("lo").Addrs, netip.MustParsePrefix("192.0.2.10/32"))
	state := filepath.Join(t.TempDir(), "rs.json")
	var out bytes.Buffer
	if err := Setup(h, dr("192.0.2.10", "192.0.2.11"), state, false, &out); err != nil {
		t.Fatal(err)
	}
	if err := Teardown(h, nil, state, &out); err != nil {
		t.Fatal(err)
	}
	lo := h.link("lo").Addrs
	if !slices.Contains(lo, netip.MustParsePrefix("192.0.2.10/32")) || slices.Contains(lo, netip.MustParsePrefix("192.0.2.11/32")) {
		t.Errorf("lo after teardown: %v, want the foreign 192.0.2.10 kept and 192.0.2.11 gone", lo)
	}
}

func TestTeardownOneVIPKeepsSettings(t *testing.T) {
	h := newFakeHost()
	state := filepath.Join(t.TempDir(), "rs.json")
	var out bytes.Buffer
	if err := Setup(h, dr("192.0.2.10", "192.0.2.11"), state, false, &out); err != nil {
		t.Fatal(err)
	}
	if err := Teardown(h, []netip.Addr{netip.MustParseAddr("192.0.2.10")}, state, &out); err != nil {
		t.Fatal(err)
	}
	if h.sysctls[confKey("all", "arp_ignore")] != "1" {
		t.Error("settings restored while a VIP is still set up")
	}
	if err := Teardown(h, []netip.Addr{netip.MustParseAddr("192.0.2.11")}, state, &out); err != nil {
		t.Fatal(err)
	}
	if h.sysctls[confKey("all", "arp_ignore")] != "0" || len(h.link("lo").Addrs) != 1 {
		t.Errorf("after the last VIP: %s", h.snapshot())
	}
}

func TestSetupTUN(t *testing.T) {
	h := newFakeHost()
	h.modules = func(h *fakeHost) { // loading ipip creates tunl0, down, with its settings
		h.links = append(h.links, Link{Name: TunnelDev})
		h.sysctls[confKey(TunnelDev, "rp_filter")] = "1"
		h.sysctls[confKey(TunnelDev, "arp_ignore")] = "0"
		h.sysctls[confKey(TunnelDev, "arp_announce")] = "0"
	}
	state := filepath.Join(t.TempDir(), "rs.json")
	o := Options{Mode: ModeTUN, VIPs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}}
	var out bytes.Buffer
	if f := Check(o, mustGather(t, h, o), nil); len(f) == 0 || !strings.Contains(f[0].What, "no tunl0") {
		t.Errorf("check before setup: %v", f)
	}
	if err := Setup(h, o, state, false, &out); err == nil || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("setup without modprobe: %v", err)
	}
	if len(h.applied) != 0 {
		t.Fatalf("changes after a refused setup: %v", h.applied)
	}
	if err := Setup(h, o, state, true, &out); err != nil {
		t.Fatal(err)
	}
	tl := h.link(TunnelDev)
	if !tl.Up || !slices.Contains(tl.Addrs, netip.MustParsePrefix("192.0.2.10/32")) {
		t.Errorf("tunl0 after setup: %+v", tl)
	}
	for _, k := range []string{confKey("all", "rp_filter"), confKey(TunnelDev, "rp_filter")} {
		if h.sysctls[k] != "0" {
			t.Errorf("%s = %s, want 0", k, h.sysctls[k])
		}
	}
	if f := Check(o, mustGather(t, h, o), nil); len(f) != 0 {
		t.Errorf("check after setup: %v", f)
	}
	if err := Teardown(h, nil, state, &out); err != nil {
		t.Fatal(err)
	}
	// The module stays loaded (tunl0 exists) but is back down with its settings.
	if got := h.snapshot(); !strings.Contains(got, "tunl0 up=false []") {
		t.Errorf("after teardown:\n%s", got)
	}
	if h.sysctls[confKey(TunnelDev, "rp_filter")] != "1" || h.sysctls[confKey("all", "rp_filter")] != "2" {
		t.Errorf("rp_filter not restored: %s", h.snapshot())
	}
}

func TestSetupFailsCleanly(t *testing.T) {
	h := newFakeHost()
	state := filepath.Join(t.TempDir(), "rs.json")
	var out bytes.Buffer
	o := dr("192.0.2.10")
	o.Interfaces = []string{"eth9"}
	if err := Setup(h, o, state, false, &out); err == nil || !strings.Contains(err.Error(), "no such interface: eth9") {
		t.Fatalf("setup with a missing interface: %v", err)
	}
	if len(h.applied) != 0 {
		t.Fatalf("changes after a refused setup: %v", h.applied)
	}
	// A failure half-way: the state already lists what was planned, so teardown undoes
	// what was done.
	before := h.snapshot()
	h.failOn = AddAddr
	if err := Setup(h, dr("192.0.2.10"), state, false, &out); err == nil {
		t.Fatal("setup succeeded although adding the address failed")
	}
	h.failOn = ""
	if err := Teardown(h, nil, state, &out); err != nil {
		t.Fatal(err)
	}
	if got := h.snapshot(); got != before {
		t.Errorf("after teardown of a failed setup:\n%s\nwant:\n%s", got, before)
	}
}

func TestCheckFindings(t *testing.T) {
	h := newFakeHost()
	h.sysctls[confKey("eth0", "arp_ignore")] = "1"  // eth0 right by itself...
	h.sysctls[confKey("all", "arp_announce")] = "2" // ...announce right through "all"
	h.listeners = []Listener{
		{netip.MustParseAddrPort("198.51.100.11:80")}, // RIP only
		{netip.MustParseAddrPort("0.0.0.0:22")},
		{netip.MustParseAddrPort("[::]:443")},
		{netip.MustParseAddrPort("192.0.2.10:8080")},
	}
	o := dr("192.0.2.10")
	o.Ports = []uint16{80, 22, 443, 8080, 9000}
	f := Check(o, mustGather(t, h, o), h.listeners)
	var got []string
	for _, x := range f {
		got = append(got, x.What)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"VIP 192.0.2.10 is not on lo",
		"arp_ignore is 0 on lo", // lo is not a RIP interface: must not appear, see below
		"192.0.2.10:80: port 80 listens on 198.51.100.11:80 only, not on the VIP",
		"192.0.2.10:9000: nothing listens on TCP port 9000",
	} {
		if strings.HasPrefix(want, "arp_ignore is 0 on lo") {
			if strings.Contains(joined, want) {
				t.Errorf("lo judged as a RIP interface:\n%s", joined)
			}
			continue
		}
		if !strings.Contains(joined, want) {
			t.Errorf("findings lack %q:\n%s", want, joined)
		}
	}
	for _, notWant := range []string{":22", ":443", ":8080", "arp_announce", "arp_ignore is 1"} {
		if strings.Contains(joined, notWant) {
			t.Errorf("findings wrongly mention %q:\n%s", notWant, joined)
		}
	}
	if len(f) != 3 {
		t.Errorf("%d findings, want 3:\n%s", len(f), joined)
	}
	if !strings.Contains(f[0].Fix, "lvsd realserver setup --vip 192.0.2.10") {
		t.Errorf("fix: %q", f[0].Fix)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Mode: ModeDR}, "--vip is required"},
		{dr("0.0.0.0"), "not a unicast"},
		{dr("192.0.2.1", "192.0.2.1"), "given twice"},
		{Options{Mode: ModeTUN, VIPs: []netip.Addr{netip.MustParseAddr("2001:db8::1")}}, "IPv4 only"},
		{Options{Mode: "nat", VIPs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}, "use dr or tun"},
	} {
		if err := c.o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
	if err := dr("192.0.2.1", "2001:db8::1").Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseProcNetTCP(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0B6433C6:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0B6433C6:0050 0A6433C6:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
`
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
   1: B80D0120000000000000000010000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
`
	var got []string
	for _, in := range []string{tcp, tcp6} {
		ls, err := ParseProcNetTCP(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			got = append(got, l.Addr.String())
		}
	}
	want := []string{"0.0.0.0:22", "198.51.100.11:80", "[::]:443", "[2001:db8::10]:8080"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := ParseProcNetTCP(strings.NewReader("h\n 0: zz:0050 0 0A\n")); err == nil {
		t.Error("bad address accepted")
	}
}

func mustGather(t *testing.T, h *fakeHost, o Options) Facts {
	t.Helper()
	f, err := Gather(h, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
