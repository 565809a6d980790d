//go:build vmtest

package e2e

import (
	"fmt"
	"testing"

	"github.com/moby/ipvs"
)

// IPv6 virtual and real servers end to end: LVS-DR on one segment with health checks over
// IPv6, and LVS-NAT across two segments, both programmed by lvsd from
// "[2001:db8::1]:80"-style addresses.

const (
	v6VIP = "2001:db8:10::101"
	v6DIP = "2001:db8:10::178"
	v6RS1 = "2001:db8:10::179"
	v6RS2 = "2001:db8:10::180"
	v6CLI = "2001:db8:10::10"
)

func hostPort(ip string, port int) string { return fmt.Sprintf("[%s]:%d", ip, port) }

// TestIPv6DRWithHealthChecks: DR on one segment, the real servers hold the VIP on lo (IPv6
// answers neighbour solicitations only for addresses of the receiving interface, so no
// arp_ignore is needed). Requests alternate, replies bypass the director; an http_get check
// over IPv6 removes a real server whose service stops and brings it back.
func TestIPv6DRWithHealthChecks(t *testing.T) {
	l := newLab(t)
	l.bridge("br0")
	cli, dir, r1, r2 := l.ns("cli"), l.ns("dir"), l.ns("rs1"), l.ns("rs2")
	l.plug(cli, "eth0", "br0", v6CLI+"/64")
	l.plug(dir, "eth0", "br0", v6DIP+"/64")
	// As lvsd adds an IPv6 VIP: deprecated, so that the director's health checks do not
	// use it as their source (the real servers hold the VIP and would answer themselves).
	l.in(dir, "ip", "-6", "addr", "add", v6VIP+"/128", "dev", "eth0", "nodad", "preferred_lft", "0")
	l.sysctl(dir, "net.ipv6.conf.all.forwarding", "1")
	var checked []*toggleServer
	for i, ns := range []string{r1, r2} {
		ip := []string{v6RS1, v6RS2}[i]
		name := fmt.Sprintf("rs%d", i+1)
		l.plug(ns, "eth0", "br0", ip+"/64")
		l.addr(ns, "lo", v6VIP+"/128", "")
		l.httpServer(ns, "[::]:80", name)
		checked = append(checked, l.toggleHTTP(ns, hostPort(ip, 8080), name))
	}
	hcl := segConfig(fmt.Sprintf(`virtual_server "%s" {
  lb_algo    = "rr"
  lb_kind    = "DR"
  delay_loop = 1
  real_server "%s" {
    http_get {
      url {
        path        = "/"
        status_code = 200
      }
      connect_port       = 8080
      connect_timeout    = 1
      retry              = 1
      delay_before_retry = 1
    }
  }
  real_server "%s" {
    tcp_check {
      connect_port       = 8080
      connect_timeout    = 1
      retry              = 1
      delay_before_retry = 1
    }
  }
}
`, hostPort(v6VIP, 80), hostPort(v6RS1, 80), hostPort(v6RS2, 80)))
	head := "TCP " + hostPort(v6VIP, 80)
	both := []string{head + " rr | -> " + hostPort(v6RS1, 80) + " Route 1 | -> " + hostPort(v6RS2, 80) + " Route 1"}
	p := l.program(dir, hcl, ipvsadmRef{
		{"-A", "-t", hostPort(v6VIP, 80), "-s", "rr"},
		{"-a", "-t", hostPort(v6VIP, 80), "-r", hostPort(v6RS1, 80), "-g", "-w", "1"},
		{"-a", "-t", hostPort(v6VIP, 80), "-r", hostPort(v6RS2, 80), "-g", "-w", "1"},
	}, both)
	c := client(cli)
	alternates(t, getN(t, c, "http://"+hostPort(v6VIP, 80)+"/", 6))
	st := l.waitStats(dir, head, func(s ipvs.SvcStats) bool { return s.Connections >= 6 })
	if st.Connections != 6 || st.PacketsIn == 0 || st.PacketsOut != 0 {
		t.Errorf("director stats %+v: want 6 connections, incoming packets and no outgoing ones (DR)", st)
	}
	if p == nil {
		return // programmed by ipvsadm: no health checks to test
	}
	p.waitChecked(t, hostPort(v6RS1, 80), hostPort(v6RS2, 80))
	checked[1].stop()
	took := p.waitTable([]string{head + " rr | -> " + hostPort(v6RS1, 80) + " Route 1"}, hcRemoveWithin)
	t.Logf("rs2 removed %v after its service stopped (tcp_check over IPv6)", took)
	if got := count(getN(t, c, "http://"+hostPort(v6VIP, 80)+"/", 3)); got["rs1"] != 3 {
		t.Errorf("with rs2 down, 3 requests reached %v, want rs1 only", got)
	}
	checked[1].start()
	p.waitTable(both, hcRemoveWithin)
	checked[0].stop()
	p.waitTable([]string{head + " rr | -> " + hostPort(v6RS2, 80) + " Route 1"}, hcRemoveWithin)
	t.Log("rs1 removed after its service stopped (http_get over IPv6)")
}

// TestIPv6NAT: client and director on one segment, real servers behind the director (their
// default route) on another; wrr 3:1 splits 20 requests 15/5 and the replies pass through
// the director.
func TestIPv6NAT(t *testing.T) {
	const (
		vip = "2001:db8:20::100"
		gw  = "2001:db8:59::100"
		rs1 = "2001:db8:59::131"
		rs2 = "2001:db8:59::132"
	)
	l := newLab(t)
	l.bridge("brA")
	l.bridge("brB")
	cli, dir, r1, r2 := l.ns("cli"), l.ns("dir"), l.ns("rs1"), l.ns("rs2")
	l.plug(cli, "eth0", "brA", "2001:db8:20::10/64")
	l.plug(dir, "eth0", "brA", vip+"/64")
	l.plug(dir, "eth1", "brB", gw+"/64")
	l.sysctl(dir, "net.ipv6.conf.all.forwarding", "1")
	for i, ns := range []string{r1, r2} {
		l.plug(ns, "eth0", "brB", []string{rs1, rs2}[i]+"/64")
		l.defaultRoute(ns, gw)
		l.httpServer(ns, "[::]:80", []string{"rs1", "rs2"}[i])
	}
	hcl := segConfig(fmt.Sprintf(`virtual_server "%s" {
  lb_algo = "wrr"
  lb_kind = "NAT"
  real_server "%s" {
    weight = 3
  }
  real_server "%s" {
    weight = 1
  }
}
`, hostPort(vip, 80), hostPort(rs1, 80), hostPort(rs2, 80)))
	head := "TCP " + hostPort(vip, 80)
	l.program(dir, hcl, ipvsadmRef{
		{"-A", "-t", hostPort(vip, 80), "-s", "wrr"},
		{"-a", "-t", hostPort(vip, 80), "-r", hostPort(rs1, 80), "-m", "-w", "3"},
		{"-a", "-t", hostPort(vip, 80), "-r", hostPort(rs2, 80), "-m", "-w", "1"},
	}, []string{head + " wrr | -> " + hostPort(rs1, 80) + " Masq 3 | -> " + hostPort(rs2, 80) + " Masq 1"})
	answers := getN(t, client(cli), "http://"+hostPort(vip, 80)+"/", 20)
	if c := count(answers); c["rs1"] != 15 || c["rs2"] != 5 {
		t.Errorf("20 requests split %v, want rs1:15 rs2:5", c)
	}
	st := l.waitStats(dir, head, func(s ipvs.SvcStats) bool { return s.Connections >= 20 })
	if st.Connections != 20 || st.PacketsOut == 0 {
		t.Errorf("director stats %+v: want 20 connections and replies through the director", st)
	}
}
