//go:build vmtest

package e2e

import (
	"testing"

	"github.com/moby/ipvs"
)

// TestNATWeighted is seed 004's LVS-NAT: client on 172.18.0.0/24, real servers behind the
// director on 192.168.59.0/24 with the director as gateway, wrr with weights 3:1. 40
// requests split exactly 30/10, and the replies pass through the director (OutPkts > 0).
func TestNATWeighted(t *testing.T) {
	const (
		vip = "172.18.0.100"
		rs1 = "192.168.59.131"
		rs2 = "192.168.59.132"
	)
	l := newLab(t)
	l.bridge("brA")
	l.bridge("brB")
	cli, dir, r1, r2 := l.ns("cli"), l.ns("dir"), l.ns("rs1"), l.ns("rs2")
	l.plug(cli, "eth0", "brA", "172.18.0.10/24")
	l.plug(dir, "eth0", "brA", vip+"/24")
	l.plug(dir, "eth1", "brB", "192.168.59.100/24")
	l.sysctl(dir, "net.ipv4.ip_forward", "1")
	for i, ns := range []string{r1, r2} {
		l.plug(ns, "eth0", "brB", []string{rs1, rs2}[i]+"/24")
		l.defaultRoute(ns, "192.168.59.100")
		l.httpServer(ns, "0.0.0.0:80", []string{"rs1", "rs2"}[i])
	}
	// This scenario runs on the moby/ipvs backend, the others on the default batched one,
	// so that both carry real traffic.
	hcl := `global {
  reconcile_interval = 1
  ipvs_backend = "moby"
}

virtual_server "172.18.0.100:80" {
  protocol = "TCP"
  lb_algo = "wrr"
  lb_kind = "NAT"
  real_server "192.168.59.131:80" {
    weight = 3
  }
  real_server "192.168.59.132:80" {
    weight = 1
  }
}
`
	l.program(dir, hcl, ipvsadmRef{
		{"-A", "-t", vip + ":80", "-s", "wrr"},
		{"-a", "-t", vip + ":80", "-r", rs1 + ":80", "-m", "-w", "3"},
		{"-a", "-t", vip + ":80", "-r", rs2 + ":80", "-m", "-w", "1"},
	}, []string{"TCP 172.18.0.100:80 wrr | -> 192.168.59.131:80 Masq 3 | -> 192.168.59.132:80 Masq 1"})
	answers := getN(t, client(cli), "http://"+vip+"/", 40)
	if c := count(answers); c["rs1"] != 30 || c["rs2"] != 10 {
		t.Errorf("40 requests split %v, want rs1:30 rs2:10", c)
	}
	st := l.waitStats(dir, "TCP "+vip+":80", func(s ipvs.SvcStats) bool { return s.Connections >= 40 })
	if st.Connections != 40 || st.PacketsOut == 0 {
		t.Errorf("director stats %+v: want 40 connections and replies through the director", st)
	}
}
