package e2e

import (
	"net"
	"syscall"
	"testing"

	"github.com/moby/ipvs"
)

func TestFormatService(t *testing.T) {
	svc := &ipvs.Service{Protocol: syscall.IPPROTO_TCP, Address: net.ParseIP("192.168.0.101"), Port: 80,
		SchedName: "rr", Flags: 0x1, Timeout: 60}
	dests := []*ipvs.Destination{
		{Address: net.ParseIP("192.168.0.180"), Port: 80, Weight: 1, ConnectionFlags: ipvs.ConnFwdDirectRoute},
		{Address: net.ParseIP("192.168.0.179"), Port: 80, Weight: 2, ConnectionFlags: ipvs.ConnFwdTunnel},
	}
	want := "TCP 192.168.0.101:80 rr persistent 60 | -> 192.168.0.179:80 Tunnel 2 | -> 192.168.0.180:80 Route 1"
	if got := formatService(svc, dests); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	fwm := &ipvs.Service{FWMark: 3, SchedName: "wrr"}
	dests = []*ipvs.Destination{
		{Address: net.ParseIP("10.0.0.2"), Port: 0, Weight: 1, ConnectionFlags: ipvs.ConnFwdDirectRoute},
		{Address: net.ParseIP("10.0.0.3"), Port: 8080, Weight: 3, ConnectionFlags: ipvs.ConnFwdMasq},
	}
	want = "FWM 3 wrr | -> 10.0.0.2 Route 1 | -> 10.0.0.3:8080 Masq 3"
	if got := formatService(fwm, dests); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
