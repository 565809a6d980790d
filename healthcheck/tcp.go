package healthcheck

import (
	"context"
	"time"
)

// TCPConfig is a tcp_check block.
type TCPConfig struct {
	ConnOpts
}

// TCPChecker passes when a TCP connection to the target completes; it then closes it.
type TCPChecker struct {
	cfg TCPConfig
}

var _ Checker = (*TCPChecker)(nil)

// NewTCPChecker returns a checker for cfg; cfg.Target must be complete (see WithDefaults).
func NewTCPChecker(cfg TCPConfig) *TCPChecker { return &TCPChecker{cfg: cfg} }

// Check connects and closes.
func (c *TCPChecker) Check(ctx context.Context) Result {
	start := time.Now()
	conn, err := c.cfg.dial(ctx)
	lat := time.Since(start)
	if err != nil {
		return Result{Why: err.Error(), Latency: lat}
	}
	_ = conn.Close()
	return Result{Up: true, Why: "connected to " + c.cfg.Target.String(), Latency: lat}
}
