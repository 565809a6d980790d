//go:build vmtest

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/ipvs"
)

// rsDown is a third real server of the reload test: an address of rs2 whose checked port is
// closed, so its health check fails from the start.
const rsDown = "192.168.0.182"

// reloadVS is the reload test's service on VIP:7000: rs1 and rs2 with the given scheduler
// and weights, unchecked, and rsDown (weight wDown) whose tcp_check never passes.
func reloadVS(algo string, w1, w2, wDown int) string {
	return fmt.Sprintf(`virtual_server %q {
  protocol   = "TCP"
  lb_algo    = %q
  lb_kind    = "DR"
  delay_loop = 1
  real_server %q {
    weight = %d
  }
  real_server %q {
    weight = %d
  }
  real_server %q {
    weight = %d
    tcp_check {
      connect_port       = 7999
      connect_timeout    = 1
      retry              = 1
      delay_before_retry = 1
    }
  }
}
`, segVIP+":7000", algo, segRS1+":7000", w1, segRS2+":7000", w2, rsDown+":7000", wDown)
}

// otherVS is a service the reloads add and remove beside the one carrying the connection.
var otherVS = fmt.Sprintf("virtual_server %q {\n  protocol = \"TCP\"\n  lb_algo = \"rr\"\n  lb_kind = \"DR\"\n  real_server %q {\n    weight = 1\n  }\n}\n",
	segVIP+":8080", segRS1+":8080")

// tableWatch polls ns's IPVS table in a tight loop until stopped and records every poll in
// which the down real server was in the table, or the service head was missing (a service
// deleted and re-added by a reload shows up here even if the end state is right).
type tableWatch struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	polls int
	bad   []string
	err   error
}

func watchTable(ns, head, down string) (*tableWatch, error) {
	h, err := ipvs.New("/run/netns/" + ns) // its own handle: the test's one is not shared across goroutines
	if err != nil {
		return nil, err
	}
	w := &tableWatch{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() { // ends when Stop closes w.stop
		defer w.wg.Done()
		defer h.Close()
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			svcs, err := h.GetServices()
			if err != nil {
				w.err = err
				return
			}
			found := false
			for _, s := range svcs {
				ds, err := h.GetDestinations(s)
				if err != nil {
					w.err = err
					return
				}
				line := formatService(s, ds)
				if strings.HasPrefix(line, head+" ") {
					found = true
				}
				if strings.Contains(line, "-> "+down+" ") {
					w.bad = append(w.bad, time.Now().Format("15:04:05.000")+" "+line)
				}
			}
			if !found {
				w.bad = append(w.bad, time.Now().Format("15:04:05.000")+" no service "+head)
			}
			w.polls++
		}
	}()
	return w, nil
}

func (w *tableWatch) Stop() (polls int, bad []string, err error) {
	close(w.stop)
	w.wg.Wait()
	return w.polls, w.bad, w.err
}

// appliedOps is the daemon's count of IPVS operations applied since it started.
func (p *lvsdProc) appliedOps(t *testing.T) int {
	t.Helper()
	var st struct {
		IPVS struct {
			Applied int `json:"applied_ops_total"`
		} `json:"ipvs"`
	}
	out := p.waitReady(10 * time.Second)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("lvsd status --json: %v\n%s", err, out)
	}
	return st.IPVS.Applied
}

// reload runs `lvsd reload` and fails the test unless it exits 0; it returns its output.
func (p *lvsdProc) reload(t *testing.T, hcl string) string {
	t.Helper()
	p.rewrite(t, hcl)
	out, err := run(lvsdBin(t), "reload", "--socket", p.socket)
	if err != nil {
		t.Fatalf("lvsd reload: %v", err)
	}
	t.Logf("lvsd reload: %q", strings.TrimSpace(out))
	return out
}

func (p *lvsdProc) rewrite(t *testing.T, hcl string) {
	t.Helper()
	if err := os.WriteFile(p.conf, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReloadKeepsConnections: a TCP connection through the VIP survives reloads that change
// the scheduler and weights and add and remove another service (by `lvsd reload` and by
// SIGHUP): the service and the connection's destination are edited in place, never
// re-created, so ActiveConn and the service's connection counter are unchanged. A real
// server whose health check failed never shows up in the kernel's table, polled in a tight
// loop through all the reloads, also when a reload changes its weight.
func TestReloadKeepsConnections(t *testing.T) {
	l := newSegLab(t, "lo")
	for i, ns := range []string{l.rs1, l.rs2} {
		l.echoServer(ns, "0.0.0.0:7000", fmt.Sprintf("rs%d", i+1))
	}
	l.addr(l.rs2, "eth0", rsDown+"/24", "")
	// A connection whose destination disappeared is dropped at once: a reload that
	// re-created the destination would break the connection visibly.
	l.sysctl(l.dir, "net.ipv4.vs.expire_nodest_conn", "1")
	head := "TCP " + segVIP + ":7000"
	table := func(algo string, w1, w2 int) string {
		return fmt.Sprintf("%s %s | -> %s:7000 Route %d | -> %s:7000 Route %d", head, algo, segRS1, w1, segRS2, w2)
	}
	other := "TCP " + segVIP + ":8080 rr | -> " + segRS1 + ":8080 Route 1"
	p := l.startLvsd(l.dir, segConfig(reloadVS("rr", 1, 1, 1)))
	p.waitTable([]string{table("rr", 1, 1)}, 40*time.Second) // rsDown checked down
	p.waitReady(10 * time.Second)

	conn := l.dialEcho(l.cli, segVIP+":7000")
	var server string
	say := func(msg string) {
		t.Helper()
		line := conn.say(msg)
		if server == "" {
			server, _, _ = strings.Cut(line, ":")
		}
		if line != server+": "+msg {
			t.Fatalf("reply to %q is %q, want %q (the connection did not survive?)", msg, line, server+": "+msg)
		}
	}
	say("before")
	dest := map[string]string{"rs1": segRS1 + ":7000", "rs2": segRS2 + ":7000"}[server]
	if dest == "" {
		t.Fatalf("connection answered by %q, want rs1 or rs2", server)
	}
	if n := l.activeConns(l.dir, head, dest); n != 1 {
		t.Fatalf("ActiveConn of %s = %d before the reloads, want 1", dest, n)
	}
	before := l.waitStats(l.dir, head, func(s ipvs.SvcStats) bool { return s.Connections >= 1 })
	opsBefore := p.appliedOps(t)

	watch, err := watchTable(l.dir, head, rsDown)
	if err != nil {
		t.Fatal(err)
	}
	// 1. Scheduler and a weight: one service edit and one destination edit, nothing else.
	if out := p.reload(t, segConfig(reloadVS("wrr", 3, 1, 1))); strings.TrimSpace(out) == "" {
		t.Errorf("lvsd reload that changed the scheduler and a weight printed nothing")
	}
	p.waitTable([]string{table("wrr", 3, 1)}, 15*time.Second)
	if ops := p.appliedOps(t) - opsBefore; ops != 2 {
		t.Errorf("changing the scheduler and one weight applied %d IPVS operations, want 2 (edit service, edit destination)", ops)
	}
	say("after the scheduler and weight change")

	// 2. Another service added, by SIGHUP.
	p.rewrite(t, segConfig(reloadVS("wrr", 3, 1, 1)+otherVS))
	if !p.running() || p.cmd.Process.Signal(syscall.SIGHUP) != nil {
		t.Fatal("lvsd is not running")
	}
	p.waitTable([]string{table("wrr", 3, 1), other}, 15*time.Second)
	say("after a service was added")

	// 3. Scheduler and both weights again, and the down server's weight (its check is
	// unchanged: it stays down).
	p.reload(t, segConfig(reloadVS("lc", 1, 2, 5)+otherVS))
	p.waitTable([]string{table("lc", 1, 2), other}, 15*time.Second)
	say("after lc")

	// 4. The other service removed.
	p.reload(t, segConfig(reloadVS("lc", 1, 2, 5)))
	p.waitTable([]string{table("lc", 1, 2)}, 15*time.Second)
	say("after a service was removed")
	time.Sleep(3 * time.Second) // three health-check periods after the last reload

	polls, bad, err := watch.Stop()
	if err != nil {
		t.Fatalf("polling the IPVS table: %v", err)
	}
	t.Logf("IPVS table polled %d times during the reloads", polls)
	if len(bad) > 0 {
		t.Errorf("%d of %d polls saw the down real server %s or a missing %s; first: %q", len(bad), polls, rsDown, head, bad[:min(len(bad), 5)])
	}
	if polls < 10 {
		t.Errorf("only %d polls of the table during the reloads: the watch proves nothing", polls)
	}
	say("at the end")
	if n := l.activeConns(l.dir, head, dest); n != 1 {
		t.Errorf("ActiveConn of %s = %d after the reloads, want 1 (the destination was re-created?)", dest, n)
	}
	after := l.waitStats(l.dir, head, func(s ipvs.SvcStats) bool { return s.Connections >= before.Connections })
	if after.Connections != before.Connections {
		t.Errorf("service %s counted %d connections before the reloads and %d after: the service was re-created", head, before.Connections, after.Connections)
	}
	st := p.statusRealServers(t)
	if rs := st[rsDown+":7000"]; rs.Healthy {
		t.Errorf("status of the down real server after the reloads: %+v, want unhealthy", rs)
	}
}
