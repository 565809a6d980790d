package healthcheck

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// DefaultWorkers bounds how many checks run at once.
const DefaultWorkers = 256

// Job is one recurring check. It returns the delay until its next run; a negative delay
// drops the job (its checker was removed by a reload).
type Job func(ctx context.Context) (next time.Duration)

// Scheduler runs many recurring jobs with one timer and a bounded pool of workers, rather
// than one sleeping goroutine per check: a min-heap holds every job's next due time, one
// dispatcher goroutine sleeps until the earliest, hands due jobs to the workers, and
// workers put each job back with its next due time.
//
// A job's next run is due at (its previous due time + the delay it returned), so a late
// start does not accumulate drift; a job never runs twice at once, and when it ran longer
// than its delay its next run is due that delay after it finished (as keepalived, which
// arms the next timer when a check ends).
type Scheduler struct {
	clock   Clock
	workers int

	base time.Time // keys are monotonic offsets from it
	mu   sync.Mutex
	h    entryHeap
	seq  uint64
	wake chan struct{}
}

type entry struct {
	due time.Time
	key int64  // due as nanoseconds since base: cheaper to compare than time.Time
	seq uint64 // FIFO among equal due times
	job Job
}

// NewScheduler returns a scheduler; workers <= 0 means DefaultWorkers.
func NewScheduler(clock Clock, workers int) *Scheduler {
	if clock == nil {
		clock = RealClock{}
	}
	if workers <= 0 {
		workers = DefaultWorkers
	}
	return &Scheduler{clock: clock, workers: workers, base: clock.Now(), wake: make(chan struct{}, 1)}
}

// Add schedules job to run first after delay (the warmup jitter is the caller's).
func (s *Scheduler) Add(delay time.Duration, job Job) {
	s.push(s.clock.Now().Add(delay), job)
}

// Len reports how many jobs are waiting (not running).
func (s *Scheduler) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

func (s *Scheduler) push(due time.Time, job Job) {
	s.mu.Lock()
	s.seq++
	heap.Push(&s.h, &entry{due: due, key: int64(due.Sub(s.base)), seq: s.seq, job: job})
	first := s.h[0].seq == s.seq
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Run dispatches jobs until ctx ends, then waits for the running jobs (which get ctx, so
// they stop early) and returns. Jobs still waiting stay in the heap.
func (s *Scheduler) Run(ctx context.Context) {
	work := make(chan *entry)
	var wg sync.WaitGroup
	for i := 0; i < s.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				next := e.job(ctx)
				if ctx.Err() != nil || next < 0 {
					continue // stopping, or the job was removed: do not reschedule
				}
				due := e.due.Add(next)
				if now := s.clock.Now(); due.Before(now) {
					due = now.Add(next)
				}
				s.push(due, e.job)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()

	timer := s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Hand every due job to a worker; blocking here when all workers are busy is the
		// back-pressure: the jobs simply start late.
		for {
			s.mu.Lock()
			if len(s.h) == 0 || s.h[0].due.After(s.clock.Now()) {
				break
			}
			e := heap.Pop(&s.h).(*entry)
			s.mu.Unlock()
			select {
			case work <- e:
			case <-ctx.Done():
				s.push(e.due, e.job)
				return
			}
		}
		wait := time.Hour
		if len(s.h) > 0 {
			wait = s.h[0].due.Sub(s.clock.Now())
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-s.wake:
		}
	}
}

type entryHeap []*entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if h[i].key == h[j].key {
		return h[i].seq < h[j].seq
	}
	return h[i].key < h[j].key
}
func (h entryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)   { *h = append(*h, x.(*entry)) }
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
