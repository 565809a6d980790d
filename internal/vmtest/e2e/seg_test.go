//go:build vmtest

package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/ipvs"
)

// The one-segment lab of seed 000: client, director and two real servers on one bridge.
const (
	segVIP = "192.168.0.101"
	segDIP = "192.168.0.178"
	segRS1 = "192.168.0.179"
	segRS2 = "192.168.0.180"
	segCLI = "192.168.0.10"
)

type segLab struct {
	*lab
	cli, dir, rs1, rs2 string
}

// newSegLab builds the lab; vipDev is where the real servers hold the VIP: "lo" for DR,
// "tunl0" for TUN. Real servers answer HTTP on :80 with their name ("rs1", "rs2").
func newSegLab(t *testing.T, vipDev string) *segLab {
	l := &segLab{lab: newLab(t)}
	l.bridge("br0")
	l.cli, l.dir, l.rs1, l.rs2 = l.ns("cli"), l.ns("dir"), l.ns("rs1"), l.ns("rs2")
	l.plug(l.cli, "eth0", "br0", segCLI+"/24")
	l.plug(l.dir, "eth0", "br0", segDIP+"/24")
	// Director: VIP as an alias of eth0 (seed: ifconfig eth0:0 VIP netmask 255.255.255.255).
	l.addr(l.dir, "eth0", segVIP+"/32", "eth0:0")
	l.sysctl(l.dir, "net.ipv4.ip_forward", "1",
		"net.ipv4.conf.all.send_redirects", "0", "net.ipv4.conf.eth0.send_redirects", "0")
	for i, ns := range []string{l.rs1, l.rs2} {
		ip := []string{segRS1, segRS2}[i]
		l.plug(ns, "eth0", "br0", ip+"/24")
		// Neither answer ARP for the VIP nor announce it (the larger of all/eth0 wins).
		l.sysctl(ns, "net.ipv4.conf.all.arp_ignore", "1", "net.ipv4.conf.eth0.arp_ignore", "1",
			"net.ipv4.conf.all.arp_announce", "2", "net.ipv4.conf.eth0.arp_announce", "2")
		switch vipDev {
		case "lo":
			l.addr(ns, "lo", segVIP+"/32", "lo:0")
		case "tunl0":
			// Decapsulated packets arrive on tunl0 from a client routed via eth0: rp_filter
			// would drop them (seed 004).
			l.linkUp(ns, "tunl0")
			l.addr(ns, "tunl0", segVIP+"/32", "")
			l.sysctl(ns, "net.ipv4.conf.all.rp_filter", "0", "net.ipv4.conf.tunl0.rp_filter", "0",
				"net.ipv4.conf.eth0.rp_filter", "0")
		default:
			t.Fatalf("unknown VIP device %q", vipDev)
		}
		l.httpServer(ns, "0.0.0.0:80", fmt.Sprintf("rs%d", i+1))
	}
	return l
}

// vs returns a virtual_server block for the segment lab, with reconcile_interval 1.
func segConfig(vs string) string {
	return "global {\n  reconcile_interval = 1\n}\n\n" + vs
}

func segVS(algo, kind, extra string, weights ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "virtual_server %q {\n  protocol = \"TCP\"\n  lb_algo = %q\n  lb_kind = %q\n%s", segVIP+":80", algo, kind, extra)
	for i, rs := range []string{segRS1, segRS2} {
		fmt.Fprintf(&b, "  real_server %q {\n    weight = %d\n  }\n", rs+":80", weights[i])
	}
	b.WriteString("}\n")
	return b.String()
}

// alternates fails unless answers alternate between the two real servers.
func alternates(t *testing.T, answers []string) {
	t.Helper()
	c := count(answers)
	if c["rs1"] == 0 || c["rs2"] == 0 || c["rs1"]+c["rs2"] != len(answers) {
		t.Fatalf("answers %v: want both rs1 and rs2, nothing else", answers)
	}
	for i := 1; i < len(answers); i++ {
		if answers[i] == answers[i-1] {
			t.Fatalf("answers %v: not in round-robin order (same server twice at %d)", answers, i)
		}
	}
}

// TestDROneSegment is seed 000: LVS-DR on one segment, VIP on the real servers' lo with
// arp_ignore=1/arp_announce=2. Requests reach both real servers in rr order and the
// replies bypass the director (its OutPkts stays 0).
func TestDROneSegment(t *testing.T) {
	l := newSegLab(t, "lo")
	p := l.program(l.dir, segConfig(segVS("rr", "DR", "", 1, 1)), ipvsadmRef{
		{"-A", "-t", segVIP + ":80", "-s", "rr"},
		{"-a", "-t", segVIP + ":80", "-r", segRS1 + ":80", "-g", "-w", "1"},
		{"-a", "-t", segVIP + ":80", "-r", segRS2 + ":80", "-g", "-w", "1"},
	}, []string{"TCP 192.168.0.101:80 rr | -> 192.168.0.179:80 Route 1 | -> 192.168.0.180:80 Route 1"})
	answers := getN(t, client(l.cli), "http://"+segVIP+"/", 6)
	alternates(t, answers)
	st := l.waitStats(l.dir, "TCP "+segVIP+":80", func(s ipvs.SvcStats) bool { return s.Connections >= 6 })
	if st.Connections != 6 || st.PacketsIn == 0 {
		t.Errorf("director stats %+v: want 6 connections and incoming packets", st)
	}
	if st.PacketsOut != 0 {
		t.Errorf("director OutPkts = %d, want 0: DR replies must go straight to the client", st.PacketsOut)
	}
	if p != nil {
		p.checkCLI(t)
	}
}

// checkCLI checks what `lvsd status --json` and `lvsd ipvs list` say about the DR lab's
// service (contract.md shapes).
func (p *lvsdProc) checkCLI(t *testing.T) {
	t.Helper()
	var st struct {
		VirtualServers []struct {
			Name        string `json:"name"`
			RealServers []struct {
				Address string `json:"address"`
				Weight  int    `json:"weight"`
				Healthy bool   `json:"healthy"`
			} `json:"real_servers"`
		} `json:"virtual_servers"`
	}
	out := p.waitReady(10 * time.Second)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("lvsd status --json: %v\n%s", err, out)
	}
	var got []string
	for _, vs := range st.VirtualServers {
		for _, rs := range vs.RealServers {
			got = append(got, fmt.Sprintf("%s %s w%d healthy=%v", vs.Name, rs.Address, rs.Weight, rs.Healthy))
		}
	}
	sort.Strings(got)
	want := []string{
		"192.168.0.101:80 192.168.0.179:80 w1 healthy=true",
		"192.168.0.101:80 192.168.0.180:80 w1 healthy=true",
	}
	if !equal(got, want) {
		t.Errorf("lvsd status --json real servers\n got %q\nwant %q\n%s", got, want, out)
	}
	list := p.l.in(p.ns, lvsdBin(t), "ipvs", "list")
	for _, re := range []string{`(?m)^TCP\s+192\.168\.0\.101:80 rr\s*$`, `(?m)^\s+-> 192\.168\.0\.179:80\s+Route\s+1\s+`, `(?m)^\s+-> 192\.168\.0\.180:80\s+Route\s+1\s+`} {
		if !regexp.MustCompile(re).MatchString(list) {
			t.Errorf("lvsd ipvs list lacks %s:\n%s", re, list)
		}
	}
}

// TestTUN is seed 004's LVS-TUN: the director encapsulates in IPIP, the real servers hold
// the VIP on tunl0 with rp_filter=0 and answer the client directly.
func TestTUN(t *testing.T) {
	l := newSegLab(t, "tunl0")
	l.program(l.dir, segConfig(segVS("rr", "TUN", "", 1, 1)), ipvsadmRef{
		{"-A", "-t", segVIP + ":80", "-s", "rr"},
		{"-a", "-t", segVIP + ":80", "-r", segRS1 + ":80", "-i", "-w", "1"},
		{"-a", "-t", segVIP + ":80", "-r", segRS2 + ":80", "-i", "-w", "1"},
	}, []string{"TCP 192.168.0.101:80 rr | -> 192.168.0.179:80 Tunnel 1 | -> 192.168.0.180:80 Tunnel 1"})
	answers := getN(t, client(l.cli), "http://"+segVIP+"/", 4)
	alternates(t, answers)
	st := l.waitStats(l.dir, "TCP "+segVIP+":80", func(s ipvs.SvcStats) bool { return s.Connections >= 4 })
	if st.Connections != 4 || st.PacketsOut != 0 {
		t.Errorf("director stats %+v: want 4 connections and OutPkts 0", st)
	}
}

// TestFwmark: a mangle rule marks VIP:80 traffic on the director and virtual_server
// "fwmark:3" balances the marked packets (the building block of seed 001's localnode).
func TestFwmark(t *testing.T) {
	l := newSegLab(t, "lo")
	l.in(l.dir, "iptables", "-t", "mangle", "-A", "PREROUTING", "-d", segVIP+"/32", "-p", "tcp", "--dport", "80",
		"-j", "MARK", "--set-mark", "3")
	hcl := segConfig(fmt.Sprintf(`virtual_server "fwmark:3" {
  protocol = "TCP"
  lb_algo = "rr"
  lb_kind = "DR"
  real_server %q {
    weight = 1
  }
  real_server %q {
    weight = 1
  }
}
`, segRS1+":80", segRS2+":80"))
	l.program(l.dir, hcl, ipvsadmRef{
		{"-A", "-f", "3", "-s", "rr"},
		{"-a", "-f", "3", "-r", segRS1 + ":80", "-g", "-w", "1"},
		{"-a", "-f", "3", "-r", segRS2 + ":80", "-g", "-w", "1"},
	}, []string{"FWM 3 rr | -> 192.168.0.179 Route 1 | -> 192.168.0.180 Route 1"})
	answers := getN(t, client(l.cli), "http://"+segVIP+"/", 4)
	alternates(t, answers)
	if st := l.waitStats(l.dir, "FWM 3", func(s ipvs.SvcStats) bool { return s.Connections >= 4 }); st.Connections != 4 {
		t.Errorf("fwmark service stats %+v: want 4 connections", st)
	}
}

// TestPersistence: with persistence_timeout every new connection of one client goes to the
// same real server, although the scheduler is rr.
func TestPersistence(t *testing.T) {
	l := newSegLab(t, "lo")
	l.program(l.dir, segConfig(segVS("rr", "DR", "  persistence_timeout = 60\n", 1, 1)), ipvsadmRef{
		{"-A", "-t", segVIP + ":80", "-s", "rr", "-p", "60"},
		{"-a", "-t", segVIP + ":80", "-r", segRS1 + ":80", "-g", "-w", "1"},
		{"-a", "-t", segVIP + ":80", "-r", segRS2 + ":80", "-g", "-w", "1"},
	}, []string{"TCP 192.168.0.101:80 rr persistent 60 | -> 192.168.0.179:80 Route 1 | -> 192.168.0.180:80 Route 1"})
	answers := getN(t, client(l.cli), "http://"+segVIP+"/", 6)
	if c := count(answers); len(c) != 1 {
		t.Fatalf("answers %v: want one real server for all requests of one client", answers)
	}
	if st := l.waitStats(l.dir, "TCP "+segVIP+":80", func(s ipvs.SvcStats) bool { return s.Connections >= 6 }); st.Connections != 6 {
		t.Errorf("stats %+v: want 6 connections through the director", st)
	}
}
