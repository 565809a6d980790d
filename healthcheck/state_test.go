package healthcheck

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	ok   = Result{Up: true, Why: "connected to 10.0.0.5:80"}
	fail = Result{Why: "connect 10.0.0.5:80: connection refused"}
)

// step is one result fed at the fake clock's time, with what must follow.
type step struct {
	r       Result
	up      bool          // server state after
	changed bool          // transition
	next    time.Duration // delay until the next check
	cause   string        // substring of the cause, when set
}

func TestServerStateRetries(t *testing.T) {
	p := CheckPolicy{Retry: 2, DelayLoop: 10 * time.Second, DelayBeforeRetry: time.Second}
	pAlpha := p
	pAlpha.Alpha = true
	pNoRetry := p
	pNoRetry.Retry = 0
	tests := []struct {
		name   string
		policy CheckPolicy
		start  bool
		steps  []step
	}{
		{name: "starts up, first failure is enough", policy: p, start: true, steps: []step{
			{r: fail, up: false, changed: true, next: 10 * time.Second, cause: "connection refused, 1st failure"},
			{r: fail, up: false, next: 10 * time.Second, cause: "2nd failure"},
			{r: ok, up: true, changed: true, next: 10 * time.Second},
		}},
		{name: "up: down at retry+1 failures with delay_before_retry between", policy: p, start: true, steps: []step{
			{r: ok, up: true, next: 10 * time.Second},
			{r: fail, up: true, next: time.Second, cause: "1st failure"},
			{r: fail, up: true, next: time.Second, cause: "2nd failure"},
			{r: fail, up: false, changed: true, next: 10 * time.Second, cause: "connect 10.0.0.5:80: connection refused, 3rd failure"},
			{r: fail, up: false, next: 10 * time.Second, cause: "4th failure"},
			{r: ok, up: true, changed: true, next: 10 * time.Second},
		}},
		{name: "a success resets the retry count", policy: p, start: true, steps: []step{
			{r: ok, up: true, next: 10 * time.Second},
			{r: fail, up: true, next: time.Second},
			{r: fail, up: true, next: time.Second},
			{r: ok, up: true, next: 10 * time.Second},
			{r: fail, up: true, next: time.Second, cause: "1st failure"},
		}},
		{name: "alpha starts down, one success brings it up", policy: pAlpha, start: false, steps: []step{
			{r: fail, up: false, next: 10 * time.Second},
			{r: ok, up: true, changed: true, next: 10 * time.Second},
		}},
		{name: "retry 0: one failure", policy: pNoRetry, start: true, steps: []step{
			{r: ok, up: true, next: 10 * time.Second},
			{r: fail, up: false, changed: true, next: 10 * time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServerState([]CheckPolicy{tt.policy})
			if s.Up() != tt.start {
				t.Fatalf("starts up=%v, want %v", s.Up(), tt.start)
			}
			now := time.Unix(1000, 0) // fake clock: advanced by each returned delay
			for i, st := range tt.steps {
				tr := s.Observe(0, st.r, now)
				if tr.Up != st.up || tr.Changed != st.changed || tr.Next != st.next || !strings.Contains(tr.Cause, st.cause) {
					t.Errorf("step %d at +%v: got up %v changed %v next %v cause %q; want up %v changed %v next %v cause ~%q",
						i, now.Sub(time.Unix(1000, 0)), tr.Up, tr.Changed, tr.Next, tr.Cause, st.up, st.changed, st.next, st.cause)
				}
				if !s.LastTime.Equal(now) {
					t.Errorf("step %d: LastTime %v, want %v", i, s.LastTime, now)
				}
				now = now.Add(tr.Next)
			}
		})
	}
}

func TestServerStateAllChecksMustPass(t *testing.T) {
	p := CheckPolicy{Retry: 0, DelayLoop: time.Second, DelayBeforeRetry: time.Second}
	s := NewServerState([]CheckPolicy{p, p})
	now := time.Unix(0, 0)
	if tr := s.Observe(1, fail, now); !tr.Changed || tr.Up {
		t.Fatalf("one of two checks failing: %+v", tr)
	}
	if tr := s.Observe(0, ok, now); tr.Changed || tr.Up {
		t.Fatalf("the other check passing must not bring it up: %+v", tr)
	}
	if tr := s.Observe(1, ok, now); !tr.Changed || !tr.Up {
		t.Fatalf("both passing: %+v", tr)
	}
	if n := NewServerState(nil); !n.Up() {
		t.Error("a server without checks must be up")
	}
}

func TestServerStateDynamicWeight(t *testing.T) {
	p := CheckPolicy{Retry: 0, DelayLoop: time.Second}
	s := NewServerState([]CheckPolicy{p})
	w := 7
	tr := s.Observe(0, Result{Up: true, Weight: &w}, time.Time{})
	if !tr.WeightChanged || s.DynamicWeight() == nil || *s.DynamicWeight() != 7 {
		t.Fatalf("weight not taken: %+v %v", tr, s.DynamicWeight())
	}
	if tr := s.Observe(0, Result{Up: true, Weight: &w}, time.Time{}); tr.WeightChanged {
		t.Error("same weight reported as a change")
	}
	if tr := s.Observe(0, fail, time.Time{}); !tr.WeightChanged || s.DynamicWeight() != nil {
		t.Error("going down must drop the dynamic weight")
	}
	s.Observe(0, Result{Up: true, Weight: &w}, time.Time{})
	if tr := s.Observe(0, ok, time.Time{}); !tr.WeightChanged || s.DynamicWeight() != nil {
		t.Error("exit 0 must restore the configured weight")
	}
}

func TestOrdinal(t *testing.T) {
	var got []string
	for _, n := range []int{1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111} {
		got = append(got, ordinal(n))
	}
	if s := fmt.Sprint(got); s != "[1st 2nd 3rd 4th 11th 12th 13th 21st 22nd 101st 111th]" {
		t.Error(s)
	}
}
