package healthcheck

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/script"
)

// MiscConfig is a misc_check block.
type MiscConfig struct {
	// Path is misc_path: a command line split with script.Split (no shell).
	Path string
	// Timeout is misc_timeout; 0: the check's delay_loop (as keepalived).
	Timeout time.Duration
	// Dynamic is misc_dynamic: exit 2-255 means up with weight exit-2.
	Dynamic bool
	// Cred runs the script as another user (keepalived's script_user); nil: lvsd's own.
	Cred *syscall.Credential
}

// MiscChecker runs a script: exit 0 is up; with Dynamic, exit 2-255 is up with weight
// status-2; anything else (exit 1, other codes, a signal, a timeout) is down. A script that
// outlives its timeout is killed with its whole process group.
type MiscChecker struct {
	argv    []string
	timeout time.Duration
	dynamic bool
	cred    *syscall.Credential
}

var _ Checker = (*MiscChecker)(nil)

// NewMiscChecker splits cfg.Path; defaultTimeout applies when cfg.Timeout is 0.
func NewMiscChecker(cfg MiscConfig, defaultTimeout time.Duration) (*MiscChecker, error) {
	argv, err := script.Split(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("misc_path: %w", err)
	}
	t := cfg.Timeout
	if t <= 0 {
		t = defaultTimeout
	}
	return &MiscChecker{argv: argv, timeout: t, dynamic: cfg.Dynamic, cred: cfg.Cred}, nil
}

// Check runs the script once.
func (c *MiscChecker) Check(ctx context.Context) Result {
	r := script.RunAs(ctx, c.argv, c.timeout, nil, c.cred)
	res := Result{Latency: r.Duration}
	switch {
	case r.TimedOut:
		res.Why = fmt.Sprintf("misc_check %s: timed out after %v (killed)", c.argv[0], c.timeout)
	case r.Err != nil:
		res.Why = fmt.Sprintf("misc_check %s", r.Err)
	case r.ExitCode == 0:
		res.Up, res.Why = true, fmt.Sprintf("misc_check %s: exit 0", c.argv[0])
	case c.dynamic && r.ExitCode >= 2 && r.ExitCode <= 255:
		w := r.ExitCode - 2
		res.Up, res.Weight = true, &w
		res.Why = fmt.Sprintf("misc_check %s: exit %d, weight %d", c.argv[0], r.ExitCode, w)
	default:
		res.Why = fmt.Sprintf("misc_check %s: exit %d", c.argv[0], r.ExitCode)
	}
	return res
}
