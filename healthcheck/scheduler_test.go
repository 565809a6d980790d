package healthcheck

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// nextDue is the earliest due time (zero when empty): tests move fake time to it.
func (s *Scheduler) nextDue() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.h) == 0 {
		return time.Time{}
	}
	return s.h[0].due
}

type run struct {
	name string
	at   time.Duration // fake time since start
}

func TestSchedulerOrderAndIntervals(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	s := NewScheduler(clk, 4)
	runs := make(chan run, 100)
	job := func(name string, every time.Duration) Job {
		return func(ctx context.Context) time.Duration {
			runs <- run{name, clk.Now().Sub(start)}
			return every
		}
	}
	s.Add(3*time.Second, job("c", 10*time.Second))
	s.Add(1*time.Second, job("a", 10*time.Second))
	s.Add(2*time.Second, job("b", 5*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	expect := func(want ...string) {
		t.Helper()
		var got []string
		for range want {
			select {
			case r := <-runs:
				got = append(got, fmt.Sprintf("%s@%v", r.name, r.at))
			case <-time.After(5 * time.Second):
				t.Fatalf("got %v, want %v", got, want)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("runs %v, want %v", got, want)
		}
	}
	step := func(d time.Duration) {
		waitIdle(t, clk, s, 3)
		clk.Advance(d)
	}
	step(time.Second)
	expect("a@1s")
	step(time.Second)
	expect("b@2s")
	step(time.Second)
	expect("c@3s")
	step(4 * time.Second)
	expect("b@7s")
	// Start 500ms late: the next run is still due on the original grid (no drift).
	step(4*time.Second + 500*time.Millisecond)
	expect("a@11.5s")
	step(time.Second)
	expect("b@12.5s") // b was due at 12s; c is due at 13s
	step(500 * time.Millisecond)
	expect("c@13s")
	waitIdle(t, clk, s, 3)
	if due := s.nextDue().Sub(start); due != 17*time.Second {
		t.Errorf("next due at %v, want 17s (b on its 5s grid)", due)
	}
}

func TestSchedulerSlowJobRunsDelayAfterItEnds(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	s := NewScheduler(clk, 2)
	var mu sync.Mutex
	var starts []time.Duration
	s.Add(0, func(ctx context.Context) time.Duration {
		mu.Lock()
		starts = append(starts, clk.Now().Sub(start))
		mu.Unlock()
		clk.Advance(3 * time.Second) // the check takes 3 s of a 1 s interval
		return time.Second
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitIdle(t, clk, s, 1)
	if due := s.nextDue().Sub(start); due != 4*time.Second {
		t.Errorf("next due %v, want 4s (1s after the 3s run ended)", due)
	}
	cancel()
	<-done
}

func TestSchedulerStopDeadline(t *testing.T) {
	s := NewScheduler(RealClock{}, 8)
	started := make(chan struct{}, 16)
	for i := 0; i < 16; i++ {
		s.Add(0, func(ctx context.Context) time.Duration {
			started <- struct{}{}
			<-ctx.Done() // a check stuck until it is told to stop
			return time.Second
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for i := 0; i < 8; i++ { // all workers busy
		<-started
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2s of cancel")
	}
}

func TestSchedulerBoundsConcurrency(t *testing.T) {
	s := NewScheduler(RealClock{}, 3)
	var mu sync.Mutex
	cur, peak, total := 0, 0, 0
	ctx, cancel := context.WithCancel(context.Background())
	for i := 0; i < 20; i++ {
		s.Add(0, func(ctx context.Context) time.Duration {
			mu.Lock()
			cur++
			total++
			peak = max(peak, cur)
			if total == 20 {
				cancel()
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			cur--
			mu.Unlock()
			return time.Hour
		})
	}
	s.Run(ctx)
	cancel()
	if peak > 3 || peak == 0 {
		t.Errorf("peak concurrency %d, want 1..3", peak)
	}
}
