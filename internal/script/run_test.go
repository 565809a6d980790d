package script

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunExitCodesAndOutput(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		exit int
		out  string
		err  bool
	}{
		{name: "ok", argv: []string{"/bin/echo", "hello"}, exit: 0, out: "hello\n"},
		{name: "exit 3 with stderr", argv: []string{"/bin/sh", "-c", "echo oops >&2; exit 3"}, exit: 3, out: "oops\n"},
		{name: "path lookup", argv: []string{"true"}, exit: 0},
		{name: "missing program", argv: []string{"/nonexistent/lvsd-test"}, exit: -1, err: true},
		{name: "killed by signal", argv: []string{"/bin/sh", "-c", "kill -9 $$"}, exit: -1, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), tt.argv, 5*time.Second, nil)
			if r.ExitCode != tt.exit || string(r.Output) != tt.out || (r.Err != nil) != tt.err || r.TimedOut {
				t.Errorf("Run(%q) = exit %d output %q err %v timedOut %v; want exit %d output %q err %v",
					tt.argv, r.ExitCode, r.Output, r.Err, r.TimedOut, tt.exit, tt.out, tt.err)
			}
		})
	}
}

func TestRunEnv(t *testing.T) {
	r := Run(context.Background(), []string{"/bin/sh", "-c", `echo "$LVSD_TEST_X"`}, 5*time.Second, []string{"LVSD_TEST_X=42"})
	if string(r.Output) != "42\n" {
		t.Errorf("output %q, want 42", r.Output)
	}
}

func TestRunOutputKeepsTail(t *testing.T) {
	r := Run(context.Background(), []string{"/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done"}, 5*time.Second, nil)
	if len(r.Output) != OutputLimit {
		t.Fatalf("kept %d bytes, want %d", len(r.Output), OutputLimit)
	}
	if !bytes.HasSuffix(r.Output, []byte("line1999\n")) {
		t.Errorf("output does not end with the last line: ...%q", r.Output[len(r.Output)-40:])
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// bgScript starts `sleep 100` in the background, writes its PID to a file, then runs tail.
func bgScript(t *testing.T, tail string) ([]string, string) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	return []string{"/bin/sh", "-c", "sleep 100 & echo $! > " + pidFile + "; " + tail}, pidFile
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for alive(t, pid) {
		if time.Now().After(deadline) {
			t.Fatalf("background sleep (pid %d) still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunTimeoutKillsProcessGroup(t *testing.T) {
	argv, pidFile := bgScript(t, "wait")
	start := time.Now()
	r := Run(context.Background(), argv, 300*time.Millisecond, nil)
	if !r.TimedOut || !errors.Is(r.Err, ErrTimeout) || r.ExitCode != -1 {
		t.Errorf("Run = timedOut %v err %v exit %d; want a timeout", r.TimedOut, r.Err, r.ExitCode)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run took %v after a 300ms timeout", d)
	}
	waitDead(t, readPID(t, pidFile))
}

func TestRunLeavesNoChildrenAfterExit(t *testing.T) {
	argv, pidFile := bgScript(t, "exit 0")
	r := Run(context.Background(), argv, 5*time.Second, nil)
	if r.Err != nil || r.ExitCode != 0 {
		t.Fatalf("Run = exit %d err %v", r.ExitCode, r.Err)
	}
	waitDead(t, readPID(t, pidFile))
}

func TestRunContextCancel(t *testing.T) {
	argv, pidFile := bgScript(t, "wait")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	r := Run(ctx, argv, time.Minute, nil)
	if !errors.Is(r.Err, context.Canceled) || r.TimedOut {
		t.Errorf("Run err %v timedOut %v; want context.Canceled", r.Err, r.TimedOut)
	}
	waitDead(t, readPID(t, pidFile))
}
