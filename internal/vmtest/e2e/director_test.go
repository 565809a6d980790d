//go:build vmtest

package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/ipvs"
)

// How the traffic tests program IPVS. By default the real lvsd binary does it (lvsd run in
// the director namespace); LVSD_E2E_IPVS=ipvsadm programs the same table with ipvsadm,
// which is how the topologies themselves were proven. Drift and adoption always use lvsd.
func useIpvsadm() bool { return os.Getenv("LVSD_E2E_IPVS") == "ipvsadm" }

// lvsdBin is $LVSD_BIN, else bin/lvsd of the module holding the working directory.
func lvsdBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LVSD_BIN"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "bin", "lvsd")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find bin/lvsd: no go.mod above the working directory and LVSD_BIN unset")
		}
		dir = parent
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// ipvsadmRef is a table written as ipvsadm commands (arguments after "ipvsadm").
type ipvsadmRef [][]string

// program makes the IPVS table of ns what hcl (virtual_server blocks) says and waits until
// the kernel's table is want (formatService's words). With LVSD_E2E_IPVS=ipvsadm the
// commands ref program it instead. It returns the lvsd process (nil for ipvsadm).
func (l *lab) program(ns, hcl string, ref ipvsadmRef, want []string) *lvsdProc {
	l.t.Helper()
	sort.Strings(want)
	if useIpvsadm() {
		for _, args := range ref {
			l.in(ns, "ipvsadm", args...)
		}
		if got := l.table(ns); !equal(got, want) {
			l.t.Fatalf("ipvsadm made\n got %q\nwant %q", got, want)
		}
		return nil
	}
	p := l.startLvsd(ns, hcl)
	p.waitTable(want, 30*time.Second)
	return p
}

// ipvs returns a (cached) IPVS netlink handle in ns.
func (l *lab) ipvs(ns string) *ipvs.Handle {
	l.t.Helper()
	if h := l.ipvsH[ns]; h != nil {
		return h
	}
	h, err := ipvs.New("/run/netns/" + ns)
	if err != nil {
		l.t.Fatalf("IPVS handle in %s: %v", ns, err)
	}
	l.ipvsH[ns] = h
	l.t.Cleanup(h.Close)
	return h
}

// table is ns's IPVS table, one formatService string per service, sorted.
func (l *lab) table(ns string) []string {
	l.t.Helper()
	h := l.ipvs(ns)
	svcs, err := h.GetServices()
	if err != nil {
		l.t.Fatalf("list IPVS services in %s: %v", ns, err)
	}
	out := []string{}
	for _, s := range svcs {
		d, err := h.GetDestinations(s)
		if err != nil {
			l.t.Fatalf("list destinations of %v in %s: %v", s.Address, ns, err)
		}
		out = append(out, formatService(s, d))
	}
	sort.Strings(out)
	return out
}

// waitTableIn polls ns's table until it equals want or the timeout passes; it returns how
// long that took.
func (l *lab) waitTableIn(ns string, want []string, timeout time.Duration) (time.Duration, bool) {
	l.t.Helper()
	sort.Strings(want)
	start := time.Now()
	for {
		if equal(l.table(ns), want) {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// service finds the service with the given head ("TCP 10.0.0.1:80" or "FWM 3") in ns.
func (l *lab) service(ns, head string) (*ipvs.Service, []*ipvs.Destination) {
	l.t.Helper()
	h := l.ipvs(ns)
	svcs, err := h.GetServices()
	if err != nil {
		l.t.Fatalf("list IPVS services in %s: %v", ns, err)
	}
	for _, s := range svcs {
		d, err := h.GetDestinations(s)
		if err != nil {
			l.t.Fatalf("list destinations in %s: %v", ns, err)
		}
		if strings.HasPrefix(formatService(s, d), head+" ") {
			return s, d
		}
	}
	l.t.Fatalf("no service %q in %s: table %q", head, ns, l.table(ns))
	return nil, nil
}

// waitStats polls the counters of service head until ok accepts them (the kernel folds its
// per-CPU counters into the totals only every 2 s) and returns the last ones read.
func (l *lab) waitStats(ns, head string, ok func(ipvs.SvcStats) bool) ipvs.SvcStats {
	l.t.Helper()
	var st ipvs.SvcStats
	for start := time.Now(); time.Since(start) < 8*time.Second; time.Sleep(200 * time.Millisecond) {
		s, _ := l.service(ns, head)
		st = s.Stats
		if ok(st) {
			break
		}
	}
	return st
}

// activeConns returns ActiveConn of destination dest ("IP:PORT") of service head.
func (l *lab) activeConns(ns, head, dest string) int {
	l.t.Helper()
	_, ds := l.service(ns, head)
	for _, d := range ds {
		if net.JoinHostPort(d.Address.String(), strconv.Itoa(int(d.Port))) == dest {
			return d.ActiveConnections
		}
	}
	l.t.Fatalf("destination %s not in service %s", dest, head)
	return 0
}

// lvsdProc is one `lvsd run` started by a test inside a namespace.
type lvsdProc struct {
	l                *lab
	ns, conf, socket string
	cmd              *exec.Cmd
	log              *syncBuffer
	done             chan struct{}
	err              error
	starts           int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLvsd writes hcl to a file and runs lvsd in ns; Cleanup stops it (SIGTERM, then
// SIGKILL by PID) and logs its output when the test failed.
func (l *lab) startLvsd(ns, hcl string) *lvsdProc {
	l.t.Helper()
	dir := l.t.TempDir()
	p := &lvsdProc{l: l, ns: ns, conf: filepath.Join(dir, "lvsd.hcl"), socket: filepath.Join(dir, "lvsd.sock"), log: &syncBuffer{}}
	if err := os.WriteFile(p.conf, []byte(hcl), 0o644); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		p.stop(10 * time.Second)
		if l.t.Failed() {
			l.t.Logf("lvsd config:\n%s\nlvsd output:\n%s", hcl, p.log.String())
		}
	})
	p.start()
	return p
}

func (p *lvsdProc) start() {
	p.l.t.Helper()
	p.starts++
	fmt.Fprintf(p.log, "--- start %d\n", p.starts)
	p.cmd = exec.Command("ip", "netns", "exec", p.ns, lvsdBin(p.l.t), "run", "--config", p.conf,
		"--socket", p.socket, "--log-level", "debug")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.l.t.Fatalf("start lvsd: %v", err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { // reaps this start's process
		p.err = cmd.Wait()
		close(done)
	}(p.cmd, p.done)
}

func (p *lvsdProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to lvsd (ip netns exec execs it, so the PID is lvsd's) and waits up to
// timeout for it to exit; it returns whether it did.
func (p *lvsdProc) signal(sig syscall.Signal, timeout time.Duration) bool {
	if p.cmd == nil || !p.running() {
		return true
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop ends lvsd gracefully, killing it if it does not exit in time.
func (p *lvsdProc) stop(timeout time.Duration) {
	if !p.signal(syscall.SIGTERM, timeout) {
		p.l.t.Errorf("lvsd did not stop within %s of SIGTERM; killing it", timeout)
		p.signal(syscall.SIGKILL, 5*time.Second)
	}
}

// waitReady polls `lvsd status` on the control socket until it answers.
func (p *lvsdProc) waitReady(timeout time.Duration) string {
	p.l.t.Helper()
	start := time.Now()
	for {
		out, err := run("ip", "netns", "exec", p.ns, lvsdBin(p.l.t), "status", "--socket", p.socket, "--json")
		if err == nil {
			return out
		}
		if !p.running() {
			p.l.t.Fatalf("lvsd exited (%v) before answering status; output:\n%s", p.err, p.log.String())
		}
		if time.Since(start) > timeout {
			p.l.t.Fatalf("lvsd status did not answer within %s: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitTable waits until the director's table equals want.
func (p *lvsdProc) waitTable(want []string, timeout time.Duration) time.Duration {
	p.l.t.Helper()
	d, ok := p.l.waitTableIn(p.ns, want, timeout)
	if !ok {
		if !p.running() {
			p.l.t.Fatalf("lvsd exited: %v", p.err)
		}
		p.l.t.Fatalf("IPVS table not as configured after %s:\n got %q\nwant %q", timeout, p.l.table(p.ns), want)
	}
	return d
}
