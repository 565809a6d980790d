package main

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestMeasureSmoke runs the benchmark at a tiny scale against in-process listeners, so the
// program keeps working; it asserts the report, not the speed.
func TestMeasureSmoke(t *testing.T) {
	var targets []netip.AddrPort
	for i := 0; i < 3; i++ {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		targets = append(targets, netip.MustParseAddrPort(l.Addr().String()))
	}
	var out strings.Builder
	if err := measure(&out, targets, 30, 100*time.Millisecond, 500*time.Millisecond, 8, 10); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"30 TCP checks", "| failed checks | 0 |", "interval deviation p99", "peak RSS", "CPU per check"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
