package track

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/script"
)

func TestCounter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rise, fall int
		initFail   bool
		results    string // s = success, f = failure
		want       string // state after each: O = OK, F = failed; * marks a change
	}{
		{"first result decides", 3, 3, false, "fss", "F* F F"},
		{"init_fail first success", 2, 2, true, "s", "O*"},
		{"fall 2", 1, 2, false, "sfsffs", "O O O O F* O*"},
		{"fall counts consecutive", 1, 2, false, "sfsfsff", "O O O O O O F*"},
		{"rise 3", 3, 1, true, "ffssfsss", "F F F F F F F O*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCounter(tc.rise, tc.fall, tc.initFail)
			if c.OK() == tc.initFail {
				t.Fatalf("initial state %v with init_fail %v", c.OK(), tc.initFail)
			}
			var got []string
			for _, r := range tc.results {
				changed := c.Add(r == 's')
				s := "F"
				if c.OK() {
					s = "O"
				}
				if changed {
					s += "*"
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %s, want %s", g, tc.want)
			}
		})
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// fakeRunner returns scripted results and records that runs never overlap.
type fakeRunner struct {
	mu       sync.Mutex
	results  []script.Result
	n        int
	inFlight int
	overlap  bool
}

func (f *fakeRunner) Run(ctx context.Context, argv []string, timeout time.Duration, cred *syscall.Credential) script.Result {
	f.mu.Lock()
	f.inFlight++
	if f.inFlight > 1 {
		f.overlap = true
	}
	r := f.results[min(f.n, len(f.results)-1)]
	f.n++
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	return r
}

func (f *fakeRunner) runs() int { f.mu.Lock(); defer f.mu.Unlock(); return f.n }

func TestScriptTrackerReportsChangesAndLogs(t *testing.T) {
	logs := &syncBuf{}
	fr := &fakeRunner{results: []script.Result{
		{ExitCode: 0}, {ExitCode: 1}, {ExitCode: 1},
		{ExitCode: -1, TimedOut: true, Err: script.ErrTimeout}, {ExitCode: 0}, {ExitCode: 0},
	}}
	var mu sync.Mutex
	var reports []bool
	tr := NewScriptTracker(Script{Name: "chk", Argv: []string{"/bin/true"}, Interval: time.Millisecond, Rise: 2, Fall: 2, InitFail: true},
		fr, slog.New(slog.NewTextHandler(logs, nil)), func(ok bool) { mu.Lock(); reports = append(reports, ok); mu.Unlock() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for fr.runs() < 7 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	// init_fail: false first; first result (0) decides: true; two failures: false; timeout
	// keeps it failed; two successes: true.
	if len(reports) != 4 || reports[0] || !reports[1] || reports[2] || !reports[3] {
		t.Fatalf("reports %v, want [false true false true]", reports)
	}
	if fr.overlap {
		t.Fatal("two runs of one script were in flight at once")
	}
	out := logs.String()
	for _, want := range []string{`result="timed out"`, "vrrp_script result changed", "exit=1", `state=failed`, `state=OK`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if st := tr.Status(); !st.OK || st.Runs < 6 {
		t.Errorf("status %+v", st)
	}
}

func TestScriptTrackerMissingIsIgnored(t *testing.T) {
	logs := &syncBuf{}
	called := false
	tr := NewScriptTracker(Script{Name: "gone", Argv: []string{"/nonexistent/check.sh"}, Interval: time.Millisecond},
		nil, slog.New(slog.NewTextHandler(logs, nil)), func(bool) { called = true })
	tr.Run(context.Background()) // returns at once
	if called || !tr.Status().Missing || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("missing script: called %v status %+v log %s", called, tr.Status(), logs)
	}
}

// A real script through the real runner: a failure with its exit code, and a hung one
// killed at its timeout.
func TestScriptTrackerRealCommands(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "ok")
	chk := filepath.Join(dir, "chk.sh")
	if err := os.WriteFile(chk, []byte("#!/bin/sh\n[ -e "+flag+" ] || exit 3\n[ \"$(cat "+flag+")\" = hang ] && sleep 30\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	reports := make(chan bool, 16)
	logs := &syncBuf{}
	tr := NewScriptTracker(Script{Name: "chk", Argv: []string{chk}, Interval: 50 * time.Millisecond, Timeout: 300 * time.Millisecond},
		ExecRunner{}, slog.New(slog.NewTextHandler(logs, nil)), func(ok bool) { reports <- ok })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	defer func() { cancel(); <-done }()
	next := func() bool {
		t.Helper()
		select {
		case ok := <-reports:
			return ok
		case <-time.After(10 * time.Second):
			t.Fatal("no report within 10 s")
		}
		return false
	}
	if !next() { // initial state
		t.Fatal("initial state failed without init_fail")
	}
	if next() {
		t.Fatal("exit 3 reported OK")
	}
	if err := os.WriteFile(flag, []byte("fine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !next() {
		t.Fatal("exit 0 reported failed")
	}
	if err := os.WriteFile(flag, []byte("hang"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if next() {
		t.Fatal("a hung script reported OK")
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if !strings.Contains(logs.String(), "exit=3") || !strings.Contains(logs.String(), "timed out") {
		t.Fatalf("log:\n%s", logs)
	}
}

func TestFileTracker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prio")
	values := make(chan int, 16)
	ft := NewFileTracker("prio", path, slog.New(slog.NewTextHandler(&syncBuf{}, nil)), func(v int) { values <- v })
	ft.every = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ft.Run(ctx) }()
	defer func() { cancel(); <-done }()
	next := func() int {
		t.Helper()
		select {
		case v := <-values:
			return v
		case <-time.After(5 * time.Second):
			t.Fatal("no value within 5 s")
		}
		return 0
	}
	if v := next(); v != 0 {
		t.Fatalf("missing file: %d, want 0", v)
	}
	for _, tc := range []struct {
		content string
		want    int
	}{{"5\n", 5}, {"  -12 trailing\n", -12}, {"junk", 0}, {"7", 7}} {
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if v := next(); v != tc.want {
			t.Fatalf("%q: %d, want %d", tc.content, v, tc.want)
		}
	}
}

// RunAs really changes the user (root only: only root may).
func TestRunAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing user needs root (make test runs as root)")
	}
	r := script.RunAs(context.Background(), []string{"/usr/bin/id", "-u"}, 5*time.Second, nil, &syscall.Credential{Uid: 65534, Gid: 65534})
	if r.Err != nil || strings.TrimSpace(string(r.Output)) != "65534" {
		t.Fatalf("id -u as 65534: %q err %v", r.Output, r.Err)
	}
}
