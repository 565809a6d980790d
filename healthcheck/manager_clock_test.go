package healthcheck

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// scripted is a Checker that answers from a script and records when (fake time) it ran.
type scripted struct {
	clk     *fakeClock
	start   time.Time
	mu      sync.Mutex
	answers []bool
	at      []time.Duration
	ran     chan struct{}
}

func (c *scripted) Check(ctx context.Context) Result {
	c.mu.Lock()
	defer func() { c.mu.Unlock(); c.ran <- struct{}{} }()
	c.at = append(c.at, c.clk.Now().Sub(c.start))
	up := true
	if len(c.answers) > 0 {
		up, c.answers = c.answers[0], c.answers[1:]
	}
	if up {
		return Result{Up: true, Why: "ok"}
	}
	return Result{Why: "connect 10.0.0.1:80: connection refused"}
}

// TestManagerRetryTimingFakeClock drives the manager, its scheduler and the state machine
// with a fake clock: checks run every delay_loop while fine, every delay_before_retry
// while an up server is failing, and the server goes down at the retry+1-th failure.
func TestManagerRetryTimingFakeClock(t *testing.T) {
	clk := newFakeClock()
	c := &scripted{clk: clk, start: clk.Now(), answers: []bool{true, false, false, false, false, true}, ran: make(chan struct{}, 10)}
	retry := 2
	ch := &changes{ch: make(chan string, 10)}
	m, err := NewManager([]VirtualServer{{Name: "vs", Quorum: 1, DelayLoop: 10 * time.Second,
		RealServers: []RealServer{{Address: rs1, Weight: 1, Checks: []Check{{Custom: c, Retry: retry, DelayBeforeRetry: time.Second}}}}}},
		Options{Clock: clk, OnChange: ch.record, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	ch.expect(t, "vs: 10.0.0.1:80 w1")

	sched := func() *Scheduler {
		for m.sched.Load() == nil {
			time.Sleep(time.Millisecond)
		}
		return m.sched.Load()
	}()
	// Each step: wait until the scheduler is idle with its timer armed, then jump to the
	// next due time; the check must run at exactly that time.
	wantAt := []time.Duration{0, 10 * time.Second, 11 * time.Second, 12 * time.Second, 22 * time.Second, 32 * time.Second}
	for i := range wantAt {
		if i > 0 {
			waitIdle(t, clk, sched, 1)
			clk.Advance(sched.nextDue().Sub(clk.Now()))
		}
		select {
		case <-c.ran:
		case <-time.After(5 * time.Second):
			t.Fatalf("check %d did not run", i)
		}
		if i == 3 {
			ch.expect(t, "vs: ") // third consecutive failure with retry 2: removed
		}
	}
	ch.expect(t, "vs: 10.0.0.1:80 w1") // one success brings it back
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, want := range wantAt {
		if c.at[i] != want {
			t.Errorf("check %d ran at %v, want %v (all: %v)", i, c.at[i], want, c.at)
		}
	}
}
