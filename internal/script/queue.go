package script

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"
)

// QueueBacklog is how many commands may wait in a Queue. Hooks are small and quick; a
// backlog this deep means a hook hangs until its timeout over and over. Enqueue then drops
// the new command with an error log rather than block its caller (a VRRP state machine or
// the health checker must never stall on a script).
const QueueBacklog = 256

// Queue runs commands one after another, in the order they were enqueued, on one goroutine
// owned by the context given to NewQueue. Hooks for one owner (a VRRP instance, the health
// checker) thus observe transitions in order, as keepalived's users expect.
type Queue struct {
	log     *slog.Logger
	timeout time.Duration

	cred      *syscall.Credential // RunAs: nil = lvsd's own user
	runCtx    context.Context     // scripts run under it; canceled on hard stop
	cancelRun context.CancelFunc
	jobs      chan []string
	done      chan struct{} // closed when the worker has returned

	mu      sync.Mutex
	closed  bool
	pending int           // enqueued and not yet finished
	idle    chan struct{} // closed while pending == 0
}

// NewQueue starts a queue whose commands each run at most timeout (0: no limit). When ctx
// ends, the running command is killed and the backlog is dropped; use Close for a graceful
// stop that lets the backlog finish.
func NewQueue(ctx context.Context, log *slog.Logger, timeout time.Duration) *Queue {
	if log == nil {
		log = slog.Default()
	}
	runCtx, cancel := context.WithCancel(ctx)
	q := &Queue{
		log:       log,
		timeout:   timeout,
		runCtx:    runCtx,
		cancelRun: cancel,
		jobs:      make(chan []string, QueueBacklog),
		done:      make(chan struct{}),
		idle:      make(chan struct{}),
	}
	close(q.idle)
	go q.work()
	return q
}

// RunAs makes every command of the queue run as cred (see RunAs); call it before the
// first Enqueue. It returns q.
func (q *Queue) RunAs(cred *syscall.Credential) *Queue {
	q.mu.Lock()
	q.cred = cred
	q.mu.Unlock()
	return q
}

// Enqueue splits cmd (a config string, see Split) and appends args, then queues it. It
// returns an error, also logged, when cmd does not split, the queue is closed, or the
// backlog is full.
func (q *Queue) Enqueue(cmd string, args ...string) error {
	argv, err := Split(cmd)
	if err != nil {
		err = fmt.Errorf("script %q: %w", cmd, err)
		q.log.Error("script not run", "script", cmd, "err", err)
		return err
	}
	argv = append(argv, args...)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.log.Warn("script not run: queue closed", "script", argv[0], "args", argv[1:])
		return fmt.Errorf("script %s: queue closed", argv[0])
	}
	select {
	case q.jobs <- argv:
		if q.pending == 0 {
			q.idle = make(chan struct{})
		}
		q.pending++
		return nil
	default:
		q.log.Error("script dropped: queue full", "script", argv[0], "args", argv[1:], "backlog", QueueBacklog)
		return fmt.Errorf("script %s: queue full (%d waiting)", argv[0], QueueBacklog)
	}
}

// Wait blocks until every command enqueued so far has finished, or ctx ends.
func (q *Queue) Wait(ctx context.Context) error {
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting commands and lets the backlog run. When ctx ends first, the running
// command is killed, the rest is dropped (each logged), and ctx's error is returned. Close
// returns only once the worker goroutine has exited.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		q.cancelRun()
		return nil
	case <-ctx.Done():
		q.cancelRun()
		<-q.done
		return ctx.Err()
	}
}

func (q *Queue) work() {
	defer close(q.done)
	for {
		select {
		case <-q.runCtx.Done():
			q.dropRest()
			return
		case argv, ok := <-q.jobs:
			if !ok {
				return
			}
			if q.runCtx.Err() != nil {
				q.log.Warn("script dropped: stopping", "script", argv[0], "args", argv[1:])
			} else {
				q.mu.Lock()
				cred := q.cred
				q.mu.Unlock()
				q.logResult(argv, RunAs(q.runCtx, argv, q.timeout, nil, cred))
			}
			q.finished()
		}
	}
}

// dropRest logs and forgets whatever is still queued when the queue's context ends.
func (q *Queue) dropRest() {
	for {
		select {
		case argv, ok := <-q.jobs:
			if !ok {
				return
			}
			q.log.Warn("script dropped: stopping", "script", argv[0], "args", argv[1:])
			q.finished()
		default:
			return
		}
	}
}

func (q *Queue) finished() {
	q.mu.Lock()
	q.pending--
	if q.pending == 0 {
		close(q.idle)
	}
	q.mu.Unlock()
}

func (q *Queue) logResult(argv []string, r Result) {
	for _, line := range strings.Split(string(bytes.TrimRight(r.Output, "\n")), "\n") {
		if line != "" {
			q.log.Info("script output", "script", argv[0], "line", line)
		}
	}
	attrs := []any{"script", argv[0], "args", argv[1:], "exit", r.ExitCode, "duration", r.Duration.Round(time.Microsecond)}
	switch {
	case r.Err != nil:
		q.log.Warn("script failed", append(attrs, "err", r.Err)...)
	case r.ExitCode != 0:
		q.log.Warn("script exited non-zero", attrs...)
	default:
		q.log.Info("script done", attrs...)
	}
}
