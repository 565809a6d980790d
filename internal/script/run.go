package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// OutputLimit is how much of a command's combined stdout and stderr Run keeps: the last
// bytes, since the end of a script's output is where its error usually is.
const OutputLimit = 4096

// Result is what one run of a command produced.
type Result struct {
	// ExitCode is the exit status; -1 when the command did not exit by itself (killed by a
	// signal, timed out, or never started).
	ExitCode int
	// Output is the tail (at most OutputLimit bytes) of stdout and stderr interleaved.
	Output []byte
	// Duration is the wall time from start to exit.
	Duration time.Duration
	// Err is nil when the command ran and exited by itself, whatever its exit code; else it
	// says why not (could not start, killed by a signal, timed out, context ended).
	Err error
	// TimedOut is true when Run killed the command because the timeout passed.
	TimedOut bool
}

// ErrTimeout is wrapped by Result.Err when the command outlived its timeout.
var ErrTimeout = errors.New("timed out")

// Run executes argv (no shell: argv[0] is the program, found in PATH when it has no slash)
// in a process group of its own and waits for it, at most timeout (0: no limit other than
// ctx). env is added to lvsd's own environment (nil: inherit as is).
//
// When the timeout passes or ctx ends, the whole process group gets SIGKILL, so that a
// script's background children die with it. When the script exits by itself, whatever it
// left running in its group is killed too: a hook or a check must not leave processes
// behind (a daemon that must outlive its script detaches with setsid, as daemons do).
// The group is killed while the leader is still an unreaped zombie, so its id (the pgid)
// cannot have been reused by an unrelated process.
func Run(ctx context.Context, argv []string, timeout time.Duration, env []string) Result {
	return RunAs(ctx, argv, timeout, env, nil)
}

// RunAs is Run as another user: cred (nil: lvsd's own user) sets the uid, gid and
// supplementary groups of the process (keepalived's script_user and vrrp_script user).
func RunAs(ctx context.Context, argv []string, timeout time.Duration, env []string, cred *syscall.Credential) Result {
	if len(argv) == 0 {
		return Result{ExitCode: -1, Err: ErrEmpty}
	}
	out := &tailBuffer{max: OutputLimit}
	cmd := exec.Command(argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = out
	cmd.Stderr = out // the same writer: exec shares one pipe, so lines keep their order
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	// A child that escaped the group (setsid) may hold the pipe open: do not wait for it.
	cmd.WaitDelay = 500 * time.Millisecond

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{ExitCode: -1, Err: fmt.Errorf("start %s: %w", argv[0], err), Duration: time.Since(start)}
	}
	pid := cmd.Process.Pid

	exited := make(chan error, 1)
	go func() { exited <- waitExitNoReap(pid) }()

	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	var stopErr error
	timedOut := false
	select {
	case <-exited:
	case <-timer:
		timedOut = true
		stopErr = fmt.Errorf("%s %w after %v", argv[0], ErrTimeout, timeout)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	case <-ctx.Done():
		stopErr = fmt.Errorf("%s stopped: %w", argv[0], ctx.Err())
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
	// The leader has exited but is not reaped yet: kill what is left of its group.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	waitErr := cmd.Wait()
	res := Result{
		ExitCode: cmd.ProcessState.ExitCode(),
		Output:   out.Bytes(),
		Duration: time.Since(start),
		TimedOut: timedOut,
	}
	switch {
	case stopErr != nil:
		res.ExitCode = -1
		res.Err = stopErr
	case res.ExitCode < 0:
		res.Err = fmt.Errorf("%s: %w", argv[0], waitErr)
	}
	return res
}

// waitExitNoReap blocks until pid has exited, leaving it a zombie (WNOWAIT) so that its
// process group id stays reserved until cmd.Wait reaps it.
func waitExitNoReap(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if len(p) >= b.max {
		b.buf = append(b.buf[:0], p[len(p)-b.max:]...)
		return n, nil
	}
	if over := len(b.buf) + len(p) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

func (b *tailBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}
