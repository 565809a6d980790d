package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
func ip(s string) netip.Addr     { return netip.MustParseAddr(s) }

// TestLoadFull loads a config using every block and most keywords and checks every typed value.
func TestLoadFull(t *testing.T) {
	const f = "testdata/full.hcl"
	cfg, err := Load(f)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	pos := func(l, c int) Pos { return Pos{File: f, Line: l, Col: c} }
	sorry := ap("10.0.0.9:80")
	want := &Config{
		Global: Global{RouterID: "director-a", ControlSocket: "/run/lvsd/a.sock", KeepIPVSOnStop: true,
			ReconcileInterval: 2 * time.Second, IPVSBackend: "batched", VRRPVersion: 2, EnableScriptSecurity: true, Pos: pos(1, 1)},
		VRRPInstances: []VRRPInstance{{
			Name: "VI_1", InitialState: StateMaster, Interface: "eth0", VRID: 51, Priority: 150,
			AdvertInt: time.Second, Preempt: true, AuthType: AuthPass, AuthPass: "1111",
			VIPs: []VIP{
				{Prefix: netip.MustParsePrefix("172.16.0.30/24"), Dev: "eth0"},
				{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Dev: "eth1", Label: "eth1:0"},
				{Prefix: netip.MustParsePrefix("2001:db8::1/64"), Dev: "eth0", Excluded: true},
			},
			UnicastSrcIP: ip("172.16.0.31"), UnicastPeers: []netip.Addr{ip("172.16.0.32")},
			TrackInterfaces: []string{"eth1"}, GARPMasterDelay: 10 * time.Second, GARPMasterRepeat: 3,
			VRRPVersion: 2, AcceptMode: true,
			TrackInterfaceWeights: []Track{{Name: "eth1", Pos: pos(24, 25)}},
			GARPLowerPrioRepeat:   3, GARPLowerPrioDelay: 10 * time.Second,
			NotifyMaster: "/etc/lvsd/bypass_ipvs.sh del 172.16.0.30",
			NotifyBackup: "/etc/lvsd/bypass_ipvs.sh add 172.16.0.30",
			NotifyFault:  "/etc/lvsd/bypass_ipvs.sh add 172.16.0.30",
			NotifyStop:   "/path/script", Notify: "/path/script", Pos: pos(8, 1),
		}},
		VirtualServers: []VirtualServer{
			{
				Name: "172.16.0.30:80", Addr: ap("172.16.0.30:80"), Protocol: ProtoTCP, LBAlgo: "rr", LBKind: LBDR,
				PersistenceTimeout: 300 * time.Second, PersistenceGranularity: net.CIDRMask(24, 32),
				DelayLoop: 30 * time.Second, SorryServer: &sorry, Quorum: 2, Hysteresis: 1, Alpha: true,
				InhibitOnFailure: true, Pos: pos(33, 1),
				RealServers: []RealServer{
					{Addr: ap("172.16.0.31:80"), Weight: 2, InhibitOnFailure: true, NotifyUp: "/path/up 'a b'",
						NotifyDown: "/path/down", UpperThreshold: 1000, LowerThreshold: 10, Pos: pos(46, 3),
						Checks: []Check{{Kind: CheckTCP, ConnectIP: ip("172.16.0.31"), ConnectPort: 8080,
							ConnectTimeout: 3 * time.Second, Retry: 2, DelayBeforeRetry: 1500 * time.Millisecond,
							Warmup: 30 * time.Second, DelayLoop: 30 * time.Second, Pos: pos(52, 5)}}},
					{Addr: ap("172.16.0.32:80"), Weight: 1, InhibitOnFailure: false, Pos: pos(59, 3),
						Checks: []Check{
							{Kind: CheckHTTP, ConnectIP: ip("172.16.0.32"), ConnectPort: 80,
								ConnectTimeout: 250 * time.Millisecond, Retry: 1, DelayBeforeRetry: 3 * time.Second,
								Warmup: 30 * time.Second, DelayLoop: 30 * time.Second, Pos: pos(61, 5),
								URLs: []URL{{Path: "/health", StatusCodes: []StatusRange{{200, 200}, {300, 304}},
									Digest: "9b3a0c85a887a256d6939da88aabd8cd"}}},
							{Kind: CheckMisc, ConnectIP: ip("172.16.0.32"), ConnectPort: 80,
								ConnectTimeout: 5 * time.Second, Retry: 0, DelayBeforeRetry: time.Second,
								Warmup: 30 * time.Second, DelayLoop: 30 * time.Second, Pos: pos(69, 5),
								MiscPath: "/usr/local/bin/check.sh arg", MiscArgv: []string{"/usr/local/bin/check.sh", "arg"},
								MiscTimeout: 5 * time.Second, MiscDynamic: true},
						}},
				},
			},
			{
				Name: "fwmark:3", FWMark: 3, LBAlgo: "sh", SchedPort: true, LBKind: LBDR,
				PersistenceGranularity: net.CIDRMask(32, 32), DelayLoop: 60 * time.Second, Quorum: 1, Pos: pos(77, 1),
				RealServers: []RealServer{{Addr: ap("172.16.0.31:0"), Weight: 1, Pos: pos(81, 3),
					Checks: []Check{{Kind: CheckSSL, ConnectIP: ip("172.16.0.31"), ConnectPort: 443,
						ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: 3 * time.Second,
						Warmup: 60 * time.Second, DelayLoop: 60 * time.Second, Pos: pos(82, 5),
						URLs:        []URL{{Path: "/", StatusCodes: []StatusRange{{200, 299}}}},
						Virtualhost: "www.example.com", EnableSNI: true}}}},
			},
			{
				Name: "[2001:db8::1]:53", Addr: ap("[2001:db8::1]:53"), IPv6: true, Protocol: ProtoUDP, OPS: true,
				LBAlgo: "mh", SchedFallback: true, PersistenceTimeout: time.Minute,
				PersistenceGranularity: net.CIDRMask(64, 128), DelayLoop: 60 * time.Second, Quorum: 3, Pos: pos(91, 1),
				RealServers: []RealServer{{Addr: ap("[2001:db8::10]:5353"), Weight: 3, Pos: pos(99, 3)}},
			},
		},
		Localnodes: []Localnode{{Name: "web", VRRPInstance: "VI_1", Mode: ModeFWMark, VIP: ip("172.16.0.30"),
			Port: 80, Protocol: ProtoTCP, PeerMAC: mustMAC("08:00:27:e1:3c:c5"), FWMark: 3, Pos: pos(104, 1)}},
		SyncDaemon: &SyncDaemon{Interface: "eth0", VRRPInstance: "VI_1", SyncID: 51, Pos: pos(114, 1)},
		Files:      []string{f},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load(%s) mismatch:\n got %s\nwant %s", f, dump(cfg), dump(want))
	}
	if got, w := cfg.Summary(), "1 vrrp instance, 3 virtual servers, 4 real servers, 1 localnode, sync daemon"; got != w {
		t.Errorf("Summary = %q, want %q", got, w)
	}
}

// dump prints a config one field per line so that a mismatch is readable.
func dump(c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n  global %+v\n", c.Global)
	for _, in := range c.VRRPInstances {
		fmt.Fprintf(&b, "  vrrp %+v\n", in)
	}
	for _, vs := range c.VirtualServers {
		rss := vs.RealServers
		vs.RealServers = nil
		fmt.Fprintf(&b, "  vs %+v sorry=%v\n", vs, vs.SorryServer)
		for _, rs := range rss {
			fmt.Fprintf(&b, "    rs %+v\n", rs)
		}
	}
	for _, ln := range c.Localnodes {
		fmt.Fprintf(&b, "  localnode %+v\n", ln)
	}
	if c.SyncDaemon != nil {
		fmt.Fprintf(&b, "  sync %+v\n", *c.SyncDaemon)
	}
	fmt.Fprintf(&b, "  warnings %v files %v\n", c.Warnings, c.Files)
	return b.String()
}

// TestContractExample: the example of contract.md is complete except for the
// virtual_server "fwmark:3" that its localnode needs; the only error must say so.
func TestContractExample(t *testing.T) {
	_, err := Load("testdata/contract.hcl")
	var ds Diagnostics
	if !errors.As(err, &ds) || len(ds) != 1 {
		t.Fatalf("want exactly one diagnostic, got %v", err)
	}
	if got, w := ds[0].String(), `testdata/contract.hcl:69:19: no virtual_server "fwmark:3" to balance the packets this localnode marks`; got != w {
		t.Errorf("got  %s\nwant %s", got, w)
	}
	src, err := os.ReadFile("testdata/contract.hcl")
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, "virtual_server \"fwmark:3\" {\n  real_server \"172.16.0.31\" {}\n}\n"...)
	cfg, err := Parse("contract.hcl", src)
	if err != nil {
		t.Fatalf("contract example with fwmark:3 added: %v", err)
	}
	if got, w := cfg.Summary(), "1 vrrp instance, 2 virtual servers, 2 real servers, 1 localnode, sync daemon"; got != w {
		t.Errorf("Summary = %q, want %q", got, w)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse("d.hcl", []byte(`
vrrp_instance "V" {
  interface         = "eth0"
  virtual_router_id = 7
  virtual_ipaddress = ["10.0.0.1"]
}
virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2" {
    tcp_check {}
    http_get {
      url { path = "/" }
    }
    misc_check { misc_path = "/bin/true" }
  }
}
lvs_sync_daemon {
  interface     = "eth0"
  vrrp_instance = "V"
}
`))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if cfg.Global.RouterID != host || cfg.Global.ControlSocket != "/run/lvsd/lvsd.sock" || cfg.Global.KeepIPVSOnStop ||
		cfg.Global.ReconcileInterval != 5*time.Second {
		t.Errorf("global defaults: %+v", cfg.Global)
	}
	in := cfg.VRRPInstances[0]
	if in.InitialState != StateBackup || in.Priority != 100 || in.AdvertInt != time.Second || !in.Preempt ||
		in.PreemptDelay != 0 || in.AuthType != AuthNone || in.GARPMasterDelay != 5*time.Second ||
		in.GARPMasterRepeat != 5 || in.UnicastSrcIP.IsValid() || len(in.UnicastPeers) != 0 {
		t.Errorf("vrrp defaults: %+v", in)
	}
	if want := (VIP{Prefix: netip.MustParsePrefix("10.0.0.1/32"), Dev: "eth0"}); in.VIPs[0] != want {
		t.Errorf("VIP default = %+v, want %+v", in.VIPs[0], want)
	}
	vs := cfg.VirtualServers[0]
	if vs.Protocol != ProtoTCP || vs.LBAlgo != "wlc" || vs.LBKind != LBNAT || vs.PersistenceTimeout != 0 ||
		!reflect.DeepEqual(vs.PersistenceGranularity, net.CIDRMask(32, 32)) || vs.DelayLoop != 60*time.Second ||
		vs.SorryServer != nil || vs.Quorum != 1 || vs.Hysteresis != 0 || vs.Alpha || vs.InhibitOnFailure ||
		vs.OPS || vs.SchedPort || vs.SchedFallback {
		t.Errorf("virtual server defaults: %+v", vs)
	}
	rs := vs.RealServers[0]
	if rs.Addr != ap("10.0.0.2:80") || rs.Weight != 1 || rs.InhibitOnFailure || rs.UpperThreshold != 0 {
		t.Errorf("real server defaults: %+v", rs)
	}
	tcp, http, misc := rs.Checks[0], rs.Checks[1], rs.Checks[2]
	if tcp.ConnectIP != ip("10.0.0.2") || tcp.ConnectPort != 80 || tcp.ConnectTimeout != 5*time.Second ||
		tcp.Retry != 1 || tcp.DelayBeforeRetry != time.Second || tcp.DelayLoop != 60*time.Second ||
		tcp.Warmup != 60*time.Second || tcp.BindTo.IsValid() {
		t.Errorf("tcp_check defaults: %+v", tcp)
	}
	if http.Retry != 1 || http.DelayBeforeRetry != 3*time.Second ||
		!reflect.DeepEqual(http.URLs, []URL{{Path: "/", StatusCodes: []StatusRange{{200, 299}}}}) {
		t.Errorf("http_get defaults: %+v", http)
	}
	if misc.Retry != 0 || misc.MiscTimeout != 60*time.Second || misc.MiscDynamic || misc.DelayBeforeRetry != time.Second {
		t.Errorf("misc_check defaults: %+v", misc)
	}
	if cfg.SyncDaemon.SyncID != 7 {
		t.Errorf("sync_id default = %d, want the VRID 7", cfg.SyncDaemon.SyncID)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", cfg.Warnings)
	}
}

// TestInheritance: check timings come from the checker, else the real server, else the
// virtual server; inhibit_on_failure and virtualhost likewise.
func TestInheritance(t *testing.T) {
	cfg, err := Parse("i.hcl", []byte(`
virtual_server "10.0.0.1:80" {
  delay_loop = 10
  connect_timeout = 2
  retry = 4
  inhibit_on_failure = true
  virtualhost = "vs.example"
  real_server "10.0.0.2" {
    delay_before_retry = 7
    warmup = 0
    http_get {
      retry = 9
      url { path = "/" }
    }
  }
}`))
	if err != nil {
		t.Fatal(err)
	}
	rs := cfg.VirtualServers[0].RealServers[0]
	c := rs.Checks[0]
	if !rs.InhibitOnFailure || c.DelayLoop != 10*time.Second || c.ConnectTimeout != 2*time.Second || c.Retry != 9 ||
		c.DelayBeforeRetry != 7*time.Second || c.Warmup != 0 || c.Virtualhost != "vs.example" {
		t.Errorf("inherited values wrong: rs %+v check %+v", rs, c)
	}
}

func TestDirectoryMerge(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-vrrp.hcl", `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.1"]
}
`)
	write("20-lvs.hcl", `virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2:80" {}
}
`)
	write("README.md", "not config")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(dir): %v", err)
	}
	if got := cfg.Summary(); got != "1 vrrp instance, 1 virtual server, 1 real server" {
		t.Errorf("Summary = %q", got)
	}
	if len(cfg.Files) != 2 || filepath.Base(cfg.Files[0]) != "10-vrrp.hcl" {
		t.Errorf("Files = %v", cfg.Files)
	}

	// Duplicates across files name both places; problems in several files come sorted.
	write("30-dup.hcl", `vrrp_instance "VI_1" {
  interface = "eth1"
  virtual_router_id = 52
  virtual_ipaddress = ["10.0.0.9"]
}
virtual_server "10.0.0.1:80" {
  real_server "10.0.0.3:80" {}
}
global {}
global {}
`)
	_, err = Load(dir)
	a, b := filepath.Join(dir, "10-vrrp.hcl"), filepath.Join(dir, "20-lvs.hcl")
	c := filepath.Join(dir, "30-dup.hcl")
	want := []string{
		c + `:1:15: duplicate vrrp_instance "VI_1" (first defined at ` + a + `:1:15)`,
		c + `:6:16: duplicate virtual_server "10.0.0.1:80": same service as virtual_server "10.0.0.1:80" (at ` + b + `:1:16)`,
		c + `:10:1: duplicate global block (first at ` + c + `:9:1)`,
	}
	checkDiags(t, err, want)
}

func TestLoadProblems(t *testing.T) {
	dir := t.TempDir()
	checkDiags(t, mustErr(Load(filepath.Join(dir, "missing.hcl"))),
		[]string{filepath.Join(dir, "missing.hcl") + ": cannot read config: no such file or directory"})
	checkDiags(t, mustErr(Load(dir)), []string{dir + ": no *.hcl files in the config directory"})
}

func mustErr(_ *Config, err error) error { return err }

// checkDiags asserts that err is Diagnostics rendering exactly as want, in order.
func checkDiags(t *testing.T, err error, want []string) {
	t.Helper()
	var ds Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("want Diagnostics %q, got %v", want, err)
	}
	got := strings.Split(ds.Error(), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func TestSummaryPlurals(t *testing.T) {
	c := &Config{}
	if got := c.Summary(); got != "0 vrrp instances, 0 virtual servers, 0 real servers" {
		t.Errorf("empty: %q", got)
	}
	c = &Config{VRRPInstances: make([]VRRPInstance, 2), VirtualServers: []VirtualServer{{RealServers: make([]RealServer, 1)}}}
	if got := c.Summary(); got != "2 vrrp instances, 1 virtual server, 1 real server" {
		t.Errorf("got %q", got)
	}
}

func TestDiagnosticString(t *testing.T) {
	d := Diagnostic{File: "a.hcl", Line: 3, Col: 7, Message: "boom"}
	if d.String() != "a.hcl:3:7: boom" {
		t.Errorf("got %q", d.String())
	}
	d.Warning = true
	if d.String() != "a.hcl:3:7: warning: boom" {
		t.Errorf("got %q", d.String())
	}
	ds := Diagnostics{{File: "b", Line: 1, Col: 1, Message: "x"}, {File: "a", Line: 9, Col: 1, Message: "y"}, {File: "a", Line: 2, Col: 5, Message: "z"}}
	ds.Sort()
	if ds.Error() != "a:2:5: z\na:9:1: y\nb:1:1: x" {
		t.Errorf("sorted: %q", ds.Error())
	}
}

// TestDiagnostics runs every snippet of cases_test.go: all problems are reported at once,
// each with its exact text and position.
func TestDiagnostics(t *testing.T) { runErrorCases(t, errorCases) }

func runErrorCases(t *testing.T, cases []diagCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.hcl", []byte(tc.src))
			if cfg != nil {
				t.Errorf("got a config despite errors")
			}
			checkDiags(t, err, tc.want)
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range warningCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.hcl", []byte(tc.src))
			if err != nil {
				t.Fatalf("want no errors, got %v", err)
			}
			checkDiags(t, cfg.Warnings, tc.want)
		})
	}
}

// TestWarningEffects: what a warning says is done is what the typed config holds.
func TestWarningEffects(t *testing.T) {
	cfg, err := Parse("t.hcl", []byte(warningCases[0].src))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.VRRPInstances[0].AuthPass; got != "12345678" {
		t.Errorf("auth_pass = %q, want it truncated to 8 bytes", got)
	}
	cfg, err = Parse("t.hcl", []byte(warningCases[1].src))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.VRRPInstances[0].InitialState; got != StateMaster {
		t.Errorf("priority 255: initial state = %v, want MASTER", got)
	}
}

// TestAccepted: things a careful reader might expect to be refused but that are valid.
func TestAccepted(t *testing.T) {
	for _, tc := range []struct{ name, src string }{
		{"loopback real server (LVS local node)", `virtual_server "10.0.0.1:80" {
  real_server "127.0.0.1" {}
}`},
		{"NAT fwmark service with real server ports", `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
}
localnode "web" {
  vrrp_instance = "V"
  mode = "fwmark"
  vip = "10.0.0.1"
  port = 80
  peer_mac = "08:00:27:e1:3c:c5"
  fwmark = 7
}
virtual_server "fwmark:7" {
  real_server "10.0.0.2:8080" {}
}`},
		{"keepalived-style unquoted numbers and quoted integers", `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = "51"
  priority = "90"
  virtual_ipaddress = "10.0.0.1"
  authentication {
    auth_type = "pass"
    auth_pass = 1111
  }
}`},
		{"case-insensitive enum values", `virtual_server "10.0.0.1:53" {
  protocol = "udp"
  lb_algo = "WRR"
  lb_kind = "dr"
  real_server "10.0.0.2" {}
}`},
		{"null is absent, durations as strings", `global {
  router_id = null
  reconcile_interval = "750ms"
}
virtual_server "[2001:db8::1]:443" {
  delay_loop = "2m"
  sorry_server = "2001:db8::9"
  real_server "2001:db8::2" {
    ssl_get {
      url { path = "/" }
      connect_timeout = 0.5
    }
  }
}`},
		{"same VRID on different interfaces", `vrrp_instance "A" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
}
vrrp_instance "B" {
  interface = "eth1"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.1.1"]
}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("ok.hcl", []byte(tc.src))
			if err != nil {
				t.Fatalf("refused:\n%v", err)
			}
			if len(cfg.Warnings) != 0 {
				t.Errorf("warnings:\n%v", cfg.Warnings)
			}
		})
	}
}

// TestSyntaxErrorsAllFiles: syntax errors of every file are reported together, sorted, and
// nothing else (schema errors after a syntax error would be noise).
func TestSyntaxErrorsAllFiles(t *testing.T) {
	_, err := ParseFiles([]File{
		{Name: "b.hcl", Src: []byte("global {\n  router_id = \n}\n")},
		{Name: "a.hcl", Src: []byte("vrrp_instance \"V\" {\n  priorty = 1\n}\nglobal {\n")},
	})
	var ds Diagnostics
	if !errors.As(err, &ds) || len(ds) < 2 {
		t.Fatalf("want syntax errors from both files, got %v", err)
	}
	if ds[0].File != "a.hcl" || ds[len(ds)-1].File != "b.hcl" {
		t.Errorf("not sorted by file: %v", ds)
	}
	for _, d := range ds {
		if strings.Contains(d.Message, "priorty") {
			t.Errorf("schema error reported despite syntax errors: %v", d)
		}
	}
}

func TestQuorumHooks(t *testing.T) {
	cfg, err := Parse("q.hcl", []byte(`
virtual_server "192.0.2.10:80" {
  quorum      = 2
  quorum_up   = "/usr/local/bin/quorum.sh up"
  quorum_down = "/usr/local/bin/quorum.sh 'down now'"
  real_server "192.0.2.21:80" { weight = 2 }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	vs := cfg.VirtualServers[0]
	if vs.QuorumUp != "/usr/local/bin/quorum.sh up" || vs.QuorumDown != "/usr/local/bin/quorum.sh 'down now'" {
		t.Errorf("quorum hooks = %q, %q", vs.QuorumUp, vs.QuorumDown)
	}
	_, err = Parse("q.hcl", []byte(`
virtual_server "192.0.2.10:80" {
  quorum_down = "/bin/x 'unbalanced"
  real_server "192.0.2.21:80" {}
}
`))
	if err == nil || !strings.Contains(err.Error(), "q.hcl:3:") || !strings.Contains(err.Error(), "quorum_down") {
		t.Errorf("unbalanced quote in quorum_down: err = %v", err)
	}
}

func TestIPVSBackend(t *testing.T) {
	cfg, err := Parse("b.hcl", []byte("global {\n  ipvs_backend = \"moby\"\n}\n"))
	if err != nil || cfg.Global.IPVSBackend != "moby" {
		t.Fatalf("ipvs_backend moby: %v, %+v", err, cfg)
	}
	_, err = Parse("b.hcl", []byte("global {\n  ipvs_backend = \"fast\"\n}\n"))
	want := `b.hcl:2:18: unknown ipvs_backend "fast"; use "batched" or "moby"`
	if err == nil || err.Error() != want {
		t.Errorf("bad backend: got %v, want %s", err, want)
	}
}
