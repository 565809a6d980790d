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
	cfg  TCPConfig
	upIs string // the Why of a success, built once: this runs tens of thousands of times a second
}

var _ Checker = (*TCPChecker)(nil)

// NewTCPChecker returns a checker for cfg; cfg.Target must be complete (see WithDefaults).
func NewTCPChecker(cfg TCPConfig) *TCPChecker {
	return &TCPChecker{cfg: cfg, upIs: "connected to " + cfg.Target.String()}
}

// Check connects and closes.
func (c *TCPChecker) Check(ctx context.Context) Result {
	start := time.Now()
	err := c.cfg.connectOnly(ctx)
	lat := time.Since(start)
	if err != nil {
		return Result{Why: err.Error(), Latency: lat}
	}
	return Result{Up: true, Why: c.upIs, Latency: lat}
}
