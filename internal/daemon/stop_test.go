package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// A stage that uses its whole budget (a notify_stop script that hangs) must not hand the
// next stages an expired context: localnode's rules and the IPVS services would stay.
func TestStopStagesEachGetTheirOwnBudget(t *testing.T) {
	var logs bytes.Buffer
	var ran []string
	var hookErr error
	live := map[string]error{}
	later := func(name string) stopStage {
		return stopStage{name: name, budget: time.Hour, run: func(ctx context.Context) {
			ran = append(ran, name)
			live[name] = ctx.Err()
		}}
	}
	runStopStages([]stopStage{
		{name: "vrrp", budget: 10 * time.Millisecond, run: func(ctx context.Context) {
			ran = append(ran, "vrrp")
			<-ctx.Done() // the hooks outlive the budget
			hookErr = ctx.Err()
		}},
		later("localnode"),
		later("ipvs"),
	}, slog.New(slog.NewTextHandler(&logs, nil)))

	if want := []string{"vrrp", "localnode", "ipvs"}; !slices.Equal(ran, want) {
		t.Fatalf("stages ran %v, want %v", ran, want)
	}
	if !errors.Is(hookErr, context.DeadlineExceeded) {
		t.Fatalf("vrrp stage's context ended with %v, want its deadline", hookErr)
	}
	for _, name := range []string{"localnode", "ipvs"} {
		if err := live[name]; err != nil {
			t.Errorf("%s stage got an ended context (%v) after the vrrp stage used its budget", name, err)
		}
	}
	if got := logs.String(); !strings.Contains(got, "stage=vrrp") || strings.Contains(got, "stage=localnode") {
		t.Errorf("want one overrun logged, for the vrrp stage:\n%s", got)
	}
}

// SIGTERM must end the process within 2 s (contract): the stages' budgets stay under it.
func TestStopBudgetsWithinContract(t *testing.T) {
	if gracefulStopBound >= 2*time.Second {
		t.Fatalf("stop budgets add up to %v, the contract allows 2 s in all", gracefulStopBound)
	}
}
