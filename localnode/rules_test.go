package localnode

import (
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func mac(t testing.TB, s string) net.HardwareAddr {
	t.Helper()
	m, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fwmarkNode(t testing.TB) Config {
	return Config{Name: "web", Instance: "VI_1", Mode: ModeFWMark,
		VIP: netip.MustParseAddr("172.16.0.30"), Port: 80, Protocol: "TCP",
		PeerMAC: mac(t, "08:00:27:E1:3C:C5"), FWMark: 3}
}

func bypassNode() Config {
	return Config{Name: "web", Instance: "VI_1", Mode: ModeBypass,
		VIP: netip.MustParseAddr("172.16.0.30"), Port: 80, Protocol: "TCP"}
}

func TestRules(t *testing.T) {
	udpAll := fwmarkNode(t)
	udpAll.Name, udpAll.Protocol, udpAll.Port, udpAll.FWMark = "dns", "UDP", 0, 0x1f
	sctp := bypassNode()
	sctp.Protocol, sctp.Port = "SCTP", 3868
	tests := []struct {
		name string
		ln   Config
		role Role
		want []string
	}{
		{"fwmark backup", fwmarkNode(t), RoleBackup, []string{
			"-t mangle -A PREROUTING -d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m mac ! --mac-source 08:00:27:e1:3c:c5 -m comment --comment lvsd:localnode:web -j MARK --set-xmark 0x3/0xffffffff"}},
		{"fwmark master: same rule", fwmarkNode(t), RoleMaster, []string{
			"-t mangle -A PREROUTING -d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m mac ! --mac-source 08:00:27:e1:3c:c5 -m comment --comment lvsd:localnode:web -j MARK --set-xmark 0x3/0xffffffff"}},
		{"fwmark every port, udp", udpAll, RoleBackup, []string{
			"-t mangle -A PREROUTING -d 172.16.0.30/32 -p udp -m mac ! --mac-source 08:00:27:e1:3c:c5 -m comment --comment lvsd:localnode:dns -j MARK --set-xmark 0x1f/0xffffffff"}},
		{"bypass backup", bypassNode(), RoleBackup, []string{
			"-t nat -A PREROUTING -d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m comment --comment lvsd:localnode:web -j REDIRECT"}},
		{"bypass master: none", bypassNode(), RoleMaster, nil},
		{"bypass sctp", sctp, RoleBackup, []string{
			"-t nat -A PREROUTING -d 172.16.0.30/32 -p sctp -m sctp --dport 3868 -m comment --comment lvsd:localnode:web -j REDIRECT"}},
		{"backup_only: no rules", Config{Name: "b", Mode: ModeBackupOnly}, RoleBackup, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range Rules(tt.ln, tt.role) {
				got = append(got, r.String())
				if n, ok := r.Tagged(); !ok || n != tt.ln.Name {
					t.Errorf("rule %s: tag %q %v, want %q", r, n, ok, tt.ln.Name)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		line   string
		ok     bool
		chain  string
		spec   []string
		tag    string
		tagged bool
	}{
		{line: "-P PREROUTING ACCEPT"},
		{line: "-N MYCHAIN"},
		{line: `-A PREROUTING -d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m comment --comment "lvsd:localnode:web" -j REDIRECT`,
			ok: true, chain: "PREROUTING", tag: "web", tagged: true,
			spec: []string{"-d", "172.16.0.30/32", "-p", "tcp", "-m", "tcp", "--dport", "80", "-m", "comment", "--comment", "lvsd:localnode:web", "-j", "REDIRECT"}},
		{line: `-A PREROUTING -m comment --comment "a \"quoted\" \\ word" -j ACCEPT`, ok: true, chain: "PREROUTING",
			spec: []string{"-m", "comment", "--comment", `a "quoted" \ word`, "-j", "ACCEPT"}},
		{line: `-A PREROUTING -m comment --comment "lvsd:localnode:with space" -j ACCEPT`, ok: true, chain: "PREROUTING",
			tag: "with space", tagged: true, spec: []string{"-m", "comment", "--comment", "lvsd:localnode:with space", "-j", "ACCEPT"}},
		{line: `-A PREROUTING -m comment --comment "lvsdx:localnode:web" -j ACCEPT`, ok: true, chain: "PREROUTING",
			spec: []string{"-m", "comment", "--comment", "lvsdx:localnode:web", "-j", "ACCEPT"}},
	}
	for _, tt := range tests {
		r, ok, err := ParseRule("nat", tt.line)
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if ok != tt.ok || r.Chain != tt.chain || !reflect.DeepEqual(r.Spec, tt.spec) {
			t.Errorf("ParseRule(%s) = %q %q %v, want %q %q %v", tt.line, r.Chain, r.Spec, ok, tt.chain, tt.spec, tt.ok)
		}
		if n, tagged := r.Tagged(); n != tt.tag || tagged != tt.tagged {
			t.Errorf("%s: Tagged() = %q %v, want %q %v", tt.line, n, tagged, tt.tag, tt.tagged)
		}
	}
	if _, _, err := ParseRule("nat", `-A X --comment "open`); err == nil || !strings.Contains(err.Error(), "unterminated quote") {
		t.Errorf("unterminated quote: err = %v", err)
	}
}

// A computed rule must compare equal to the same rule as iptables prints it (nf_tables
// prints MACs lowercase, legacy uppercase).
func TestRuleKeyMatchesListing(t *testing.T) {
	want := Rules(fwmarkNode(t), RoleBackup)[0]
	for _, line := range []string{
		`-A PREROUTING -d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m mac ! --mac-source 08:00:27:e1:3c:c5 -m comment --comment "lvsd:localnode:web" -j MARK --set-xmark 0x3/0xffffffff`,
		`-A PREROUTING -d 172.16.0.30/32 -p tcp -m tcp --dport 80 -m mac ! --mac-source 08:00:27:E1:3C:C5 -m comment --comment "lvsd:localnode:web" -j MARK --set-xmark 0x3/0xffffffff`,
	} {
		got, ok, err := ParseRule("mangle", line)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", line, ok, err)
		}
		if got.key() != want.key() {
			t.Errorf("listing %s\ndoes not match computed %s", line, want)
		}
	}
}

func TestValidate(t *testing.T) {
	noMAC := fwmarkNode(t)
	noMAC.PeerMAC = nil
	noMark := fwmarkNode(t)
	noMark.FWMark = 0
	v6 := bypassNode()
	v6.VIP = netip.MustParseAddr("2001:db8::1")
	noVIP := bypassNode()
	noVIP.VIP = netip.Addr{}
	long := bypassNode()
	long.Name = strings.Repeat("x", 250)
	quote := bypassNode()
	quote.Name = `a"b`
	tests := []struct {
		ln   Config
		want string
	}{
		{fwmarkNode(t), ""},
		{bypassNode(), ""},
		{Config{Name: "b", Mode: ModeBackupOnly}, ""},
		{noMAC, "peer_mac"},
		{noMark, "non-zero fwmark"},
		{v6, "only IPv4"},
		{noVIP, "needs a vip"},
		{long, "longer than"},
		{quote, "quotes"},
		{Config{Name: "x", Mode: 9}, "unknown mode"},
	}
	for _, tt := range tests {
		err := validate(tt.ln)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("validate(%s %v) = %v, want %q", tt.ln.Name, tt.ln.Mode, err, tt.want)
		}
	}
}
