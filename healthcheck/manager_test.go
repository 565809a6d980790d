package healthcheck

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// toggle is a Checker whose result the test sets.
type toggle struct{ up atomic.Bool }

var _ Checker = (*toggle)(nil)

func (c *toggle) Check(ctx context.Context) Result {
	if c.up.Load() {
		return Result{Up: true, Why: "toggle up"}
	}
	return Result{Why: "toggle down"}
}

type changes struct {
	mu  sync.Mutex
	got []string
	ch  chan string
}

func (c *changes) record(vs string, dests []Dest) {
	s := vs + ": " + fmtDests(dests)
	c.mu.Lock()
	c.got = append(c.got, s)
	c.mu.Unlock()
	c.ch <- s
}

func (c *changes) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-c.ch:
		if got != want {
			t.Errorf("OnChange %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no OnChange, want %q", want)
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", filepath.Base(path), b, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestManagerEndToEnd(t *testing.T) {
	l := listen(t, "tcp4", "127.0.0.1")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	live := addrPort(t, l.Addr())
	flappy := &toggle{}
	flappy.up.Store(true)
	dir := t.TempDir()
	hooks := filepath.Join(dir, "hooks")
	hook := func(name string) string { return fmt.Sprintf(`/bin/sh -c 'echo %s >> %s'`, name, hooks) }
	retry0 := 0
	rsB := netip.MustParseAddrPort("10.0.0.2:80")
	vs := VirtualServer{
		Name: "172.16.0.30:80", DelayLoop: 20 * time.Millisecond,
		Quorum: 2, SorryServer: netip.MustParseAddrPort("10.0.0.9:80"),
		QuorumUp: hook("quorum_up"), QuorumDown: hook("quorum_down"),
		RealServers: []RealServer{
			{Address: live, Weight: 1, Checks: []Check{{TCP: &TCPConfig{}}}},
			{Address: rsB, Weight: 1, NotifyUp: hook("up_B"), NotifyDown: hook("down_B"),
				Checks: []Check{{Custom: flappy, Retry: retry0}}},
		},
	}
	ch := &changes{ch: make(chan string, 10)}
	logBuf := &strings.Builder{}
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logBuf.Write(p)
	}), nil))
	m, err := NewManager([]VirtualServer{vs}, Options{Log: log, OnChange: ch.record})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()

	both := fmt.Sprintf("172.16.0.30:80: 10.0.0.2:80 w1; %s w1", live)
	ch.expect(t, both)
	flappy.up.Store(false)
	ch.expect(t, "172.16.0.30:80: 10.0.0.9:80 w1 sorry")
	waitFile(t, hooks, "down_B\nquorum_down\n")

	st := m.Status()
	if len(st) != 1 || !st[0].SorryActive || st[0].QuorumUp || len(st[0].RealServers) != 2 {
		t.Fatalf("status %+v", st)
	}
	b := st[0].RealServers[1]
	if b.Healthy || b.Failures < 1 || b.LastWhy != "toggle down" || b.LastCheck.IsZero() {
		t.Errorf("status of B %+v", b)
	}
	if a := st[0].RealServers[0]; !a.Healthy || a.LastWhy != "connected to "+live.String() || a.Weight != 1 {
		t.Errorf("status of A %+v", a)
	}

	flappy.up.Store(true)
	ch.expect(t, both)
	waitFile(t, hooks, "down_B\nquorum_down\nup_B\nquorum_up\n")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return within 3s of cancel")
	}
	logMu.Lock()
	logs := logBuf.String()
	logMu.Unlock()
	for _, want := range []string{`msg="real server down" vs=172.16.0.30:80 rs=10.0.0.2:80 cause="toggle down, 1st failure"`, `msg="quorum down"`, `msg="real server up"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestManagerAlphaInhibit(t *testing.T) {
	c := &toggle{}
	vs := VirtualServer{Name: "vs", Quorum: 1, DelayLoop: 10 * time.Millisecond, Alpha: true,
		RealServers: []RealServer{{Address: rs1, Weight: 3, InhibitOnFailure: true, Checks: []Check{{Custom: c}}}}}
	ch := &changes{ch: make(chan string, 10)}
	m, err := NewManager([]VirtualServer{vs}, Options{OnChange: ch.record, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	ch.expect(t, "vs: 10.0.0.1:80 w0") // alpha: down at start, inhibited: weight 0
	c.up.Store(true)
	ch.expect(t, "vs: 10.0.0.1:80 w3")
	cancel()
	<-done
}

func TestManagerStopsWithHangingChecks(t *testing.T) {
	var rss []RealServer
	for i := 0; i < 20; i++ {
		rss = append(rss, RealServer{Address: netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(1000+i)), Weight: 1,
			Checks: []Check{{Misc: &MiscConfig{Path: "/bin/sleep 100", Timeout: time.Minute}}}})
	}
	m, err := NewManager([]VirtualServer{{Name: "vs", Quorum: 1, DelayLoop: time.Second, RealServers: rss}},
		Options{Log: slog.New(slog.DiscardHandler), Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	time.Sleep(200 * time.Millisecond) // the scripts are running
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return within 3s with checks hanging")
	}
}

func TestNewManagerRejects(t *testing.T) {
	bad := []struct {
		name string
		vss  []VirtualServer
		err  string
	}{
		{"duplicate vs", []VirtualServer{{Name: "a", Quorum: 1, DelayLoop: time.Second}, {Name: "a", Quorum: 1, DelayLoop: time.Second}}, `virtual server "a": defined twice`},
		{"duplicate rs", []VirtualServer{{Name: "a", Quorum: 1, DelayLoop: time.Second, RealServers: []RealServer{{Address: rs1}, {Address: rs1}}}}, "listed twice"},
		{"no checker", []VirtualServer{{Name: "a", Quorum: 1, DelayLoop: time.Second, RealServers: []RealServer{{Address: rs1, Checks: []Check{{}}}}}}, "want exactly one"},
		{"bad misc", []VirtualServer{{Name: "a", Quorum: 1, DelayLoop: time.Second, RealServers: []RealServer{{Address: rs1, Checks: []Check{{Misc: &MiscConfig{Path: `"x`}}}}}}}, "misc_path"},
		{"bad http", []VirtualServer{{Name: "a", Quorum: 1, DelayLoop: time.Second, RealServers: []RealServer{{Address: rs1, Checks: []Check{{HTTP: &HTTPConfig{}}}}}}}, "no url"},
	}
	for _, tt := range bad {
		if _, err := NewManager(tt.vss, Options{}); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
		}
	}
}

func TestJitterSpreadsFirstChecks(t *testing.T) {
	// Scheduler-level check of the default jitter: first runs spread over [0, warmup).
	var mu sync.Mutex
	var firsts []time.Duration
	var rss []RealServer
	for i := 0; i < 200; i++ {
		rss = append(rss, RealServer{Address: netip.AddrPortFrom(netip.MustParseAddr("10.2.0.1"), uint16(1+i)), Weight: 1,
			Checks: []Check{{Custom: &toggle{}, Warmup: 10 * time.Second}}})
	}
	clk := newFakeClock()
	m, err := NewManager([]VirtualServer{{Name: "vs", Quorum: 1, DelayLoop: 10 * time.Second, RealServers: rss}},
		Options{Log: slog.New(slog.DiscardHandler), Clock: clk, Jitter: func(max time.Duration) time.Duration {
			d := defaultJitter(max)
			mu.Lock()
			firsts = append(firsts, d)
			mu.Unlock()
			return d
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(firsts)
		mu.Unlock()
		if n == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	var buckets [10]int
	for _, d := range firsts {
		if d < 0 || d >= 10*time.Second {
			t.Fatalf("first check at %v, outside the 10s warmup (delay_loop)", d)
		}
		buckets[d/time.Second]++
	}
	for i, n := range buckets {
		if n == 0 {
			t.Errorf("no first check in second %d of the warmup: %v", i, buckets)
		}
	}
}

// TestManagerHooksRunAsHookCred runs real notify hooks as nobody, then as root after
// SetHookCred (a reload changing script_user); each hook writes the uid it ran as.
func TestManagerHooksRunAsHookCred(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("needs root to run a script as another user")
	}
	dir, err := os.MkdirTemp("", "lvsd-hookcred-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil { // nobody's hook writes here
		t.Fatal(err)
	}
	uids := filepath.Join(dir, "uids")
	hook := `/bin/sh -c 'id -u >> ` + uids + `'`
	flappy := &toggle{}
	flappy.up.Store(true)
	vs := VirtualServer{Name: "172.16.0.31:80", DelayLoop: 20 * time.Millisecond, Quorum: 1, RealServers: []RealServer{
		{Address: netip.MustParseAddrPort("10.0.0.3:80"), Weight: 1, NotifyUp: hook, NotifyDown: hook,
			Checks: []Check{{Custom: flappy}}}}}
	ch := &changes{ch: make(chan string, 10)}
	m, err := NewManager([]VirtualServer{vs}, Options{Log: slog.New(slog.DiscardHandler), OnChange: ch.record,
		HookCred: &syscall.Credential{Uid: 65534, Gid: 65534}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	ch.expect(t, "172.16.0.31:80: 10.0.0.3:80 w1")
	flappy.up.Store(false)
	ch.expect(t, "172.16.0.31:80: ")
	waitFile(t, uids, "65534\n")
	m.SetHookCred(nil)
	flappy.up.Store(true)
	ch.expect(t, "172.16.0.31:80: 10.0.0.3:80 w1")
	waitFile(t, uids, "65534\n0\n")
}
