//go:build vmtest

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestKill9UnderTraffic: clients open new connections through the VIP without pause while
// lvsd is killed with SIGKILL, stays down, and is restarted (adopting the kernel's
// services): not one connection fails or is reset, and traffic flows in every phase.
func TestKill9UnderTraffic(t *testing.T) {
	l := newSegLab(t, "lo")
	for i, ns := range []string{l.rs1, l.rs2} {
		l.echoServer(ns, "0.0.0.0:7000", fmt.Sprintf("rs%d", i+1))
	}
	hcl := segConfig(fmt.Sprintf(`virtual_server %q {
  protocol = "TCP"
  lb_algo = "rr"
  lb_kind = "DR"
  real_server %q {}
  real_server %q {}
}
`, segVIP+":7000", segRS1+":7000", segRS2+":7000"))
	want := []string{"TCP " + segVIP + ":7000 rr | -> 192.168.0.179:7000 Route 1 | -> 192.168.0.180:7000 Route 1"}
	p := l.startLvsd(l.dir, hcl)
	p.waitTable(want, 30*time.Second)
	p.waitReady(10 * time.Second)

	var ok, failed atomic.Int64
	var mu sync.Mutex
	var firstErr string
	once := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := dial(ctx, l.cli, "tcp4", segVIP+":7000")
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintln(c, "ping"); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasSuffix(line, ": ping\n") {
			return fmt.Errorf("reply %q", line)
		}
		return nil
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := once(); err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	phase := func(name string, d time.Duration) {
		before := ok.Load()
		time.Sleep(d)
		t.Logf("%s: %d connections answered", name, ok.Load()-before)
		if ok.Load() == before {
			t.Errorf("no connection answered while %s", name)
		}
	}
	phase("lvsd runs", 2*time.Second)
	if !p.signal(syscall.SIGKILL, 10*time.Second) {
		t.Fatal("lvsd did not die of SIGKILL")
	}
	phase("lvsd is dead", 2*time.Second)
	p.start()
	p.waitReady(20 * time.Second)
	phase("lvsd restarted", 3*time.Second)
	close(stop)
	wg.Wait()
	if got := l.table(l.dir); !equal(got, want) {
		t.Errorf("after the restart the table is %q, want %q", got, want)
	}
	t.Logf("%d connections answered, %d failed", ok.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d connections failed (first: %s), want 0", failed.Load(), firstErr)
	}
}
