package track

import (
	"context"

	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/script"
)

// Script is one vrrp_script to run.
type Script struct {
	Name       string
	Argv       []string
	Interval   time.Duration
	Timeout    time.Duration
	Rise, Fall int
	InitFail   bool
	Cred       *syscall.Credential // nil: lvsd's own user
}

// Runner runs one command (the side effect behind ScriptTracker; script.RunAs in
// production, a fake in tests).
type Runner interface {
	Run(ctx context.Context, argv []string, timeout time.Duration, cred *syscall.Credential) script.Result
}

// ExecRunner runs commands with script.RunAs: no shell, own process group, killed with its
// group at timeout or when ctx ends.
type ExecRunner struct{}

func (ExecRunner) Run(ctx context.Context, argv []string, timeout time.Duration, cred *syscall.Credential) script.Result {
	return script.RunAs(ctx, argv, timeout, nil, cred)
}

// ScriptStatus is a script's state for status and metrics.
type ScriptStatus struct {
	Name     string
	OK       bool
	Runs     uint64
	LastExit int  // -1: did not exit by itself (timed out, killed, could not start)
	TimedOut bool // the last run timed out
	Missing  bool // the program is not on this machine: the tracker is ignored
}

// ScriptTracker runs one vrrp_script every Interval, one run at a time.
type ScriptTracker struct {
	s      Script
	runner Runner
	log    *slog.Logger
	report func(ok bool)

	mu sync.Mutex
	st ScriptStatus
	c  *Counter
}

// NewScriptTracker prepares a tracker; report is called with the initial state when Run
// starts and on every change of state after, from Run's goroutine.
func NewScriptTracker(s Script, runner Runner, log *slog.Logger, report func(ok bool)) *ScriptTracker {
	if runner == nil {
		runner = ExecRunner{}
	}
	if s.Timeout <= 0 {
		s.Timeout = s.Interval
	}
	c := NewCounter(s.Rise, s.Fall, s.InitFail)
	return &ScriptTracker{s: s, runner: runner, log: log.With("vrrp_script", s.Name), report: report, c: c,
		st: ScriptStatus{Name: s.Name, OK: c.OK(), LastExit: -1}}
}

// Status is a snapshot.
func (t *ScriptTracker) Status() ScriptStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// Missing reports whether the script's program is absent from this machine (keepalived
// logs it and ignores the tracker).
func Missing(argv []string) error {
	if len(argv) == 0 {
		return script.ErrEmpty
	}
	if !strings.Contains(argv[0], "/") {
		_, err := exec.LookPath(argv[0])
		return err
	}
	fi, err := os.Stat(argv[0])
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", argv[0])
	}
	return nil
}

// Run runs the script until ctx ends (a run in flight is killed with its process group).
// A missing program is logged at WARN and the tracker does nothing (no result is ever
// reported, so it neither fails nor adjusts).
func (t *ScriptTracker) Run(ctx context.Context) {
	if err := Missing(t.s.Argv); err != nil {
		t.log.Warn("vrrp_script not found on this machine: tracker ignored", "script", t.s.Argv[0], "err", err)
		t.mu.Lock()
		t.st.Missing = true
		t.mu.Unlock()
		return
	}
	t.report(t.c.OK())
	tick := time.NewTicker(t.s.Interval)
	defer tick.Stop()
	var prevExit *int
	prevTimedOut := false
	for {
		r := t.runner.Run(ctx, t.s.Argv, t.s.Timeout, t.s.Cred)
		if ctx.Err() != nil {
			return
		}
		success := r.Err == nil && r.ExitCode == 0
		if prevExit == nil || *prevExit != r.ExitCode || prevTimedOut != r.TimedOut {
			attrs := []any{"exit", r.ExitCode}
			switch {
			case r.TimedOut:
				attrs = []any{"result", "timed out", "timeout", t.s.Timeout}
			case r.Err != nil:
				attrs = append(attrs, "err", r.Err)
			}
			t.log.Info("vrrp_script result changed", attrs...)
			code := r.ExitCode
			prevExit, prevTimedOut = &code, r.TimedOut
		}
		t.mu.Lock()
		changed := t.c.Add(success)
		t.st.OK = t.c.OK()
		t.st.Runs++
		t.st.LastExit, t.st.TimedOut = r.ExitCode, r.TimedOut
		ok := t.st.OK
		t.mu.Unlock()
		if changed {
			state := "failed"
			if ok {
				state = "OK"
			}
			t.log.Info("vrrp_script state changed", "state", state, "rise", t.s.Rise, "fall", t.s.Fall)
			t.report(ok)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
