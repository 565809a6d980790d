package script

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for the queue's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

func TestQueueRunsInOrderWithArgsAppended(t *testing.T) {
	log, logs := testLogger()
	q := NewQueue(context.Background(), log, 5*time.Second)
	out := filepath.Join(t.TempDir(), "out")
	// A notify-style hook: the config string plus INSTANCE NAME STATE PRIORITY appended.
	hook := `/bin/sh -c 'echo "$*" >> ` + out + `' hook`
	for _, state := range []string{"BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"} {
		if err := q.Enqueue(hook, "INSTANCE", "VI_1", state, "100"); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "INSTANCE VI_1 BACKUP 100\nINSTANCE VI_1 MASTER 100\nINSTANCE VI_1 FAULT 100\nINSTANCE VI_1 BACKUP 100\nINSTANCE VI_1 MASTER 100\n"
	if string(b) != want {
		t.Errorf("hooks ran as\n%s\nwant\n%s", b, want)
	}
	if err := q.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !strings.Contains(logs.String(), "exit=0") || !strings.Contains(logs.String(), "script=/bin/sh") {
		t.Errorf("log lacks exit status and script name:\n%s", logs)
	}
}

func TestQueueLogsOutputAndFailure(t *testing.T) {
	log, logs := testLogger()
	q := NewQueue(context.Background(), log, 5*time.Second)
	if err := q.Enqueue(`/bin/sh -c 'echo first; echo second >&2; exit 4'`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, want := range []string{"line=first", "line=second", "exit=4", "script exited non-zero"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestQueueRejects(t *testing.T) {
	log, logs := testLogger()
	q := NewQueue(context.Background(), log, time.Second)
	if err := q.Enqueue(`/bin/echo "unterminated`); err == nil {
		t.Error("Enqueue of an unsplittable command succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue("/bin/true"); err == nil {
		t.Error("Enqueue after Close succeeded")
	}
	if !strings.Contains(logs.String(), "queue closed") {
		t.Errorf("log lacks the refusal:\n%s", logs)
	}
}

func TestQueueFullDropsWithLog(t *testing.T) {
	log, logs := testLogger()
	q := NewQueue(context.Background(), log, time.Minute)
	if err := q.Enqueue("/bin/sleep 100"); err != nil {
		t.Fatal(err)
	}
	var dropped int
	for i := 0; i < QueueBacklog+5; i++ {
		if err := q.Enqueue("/bin/true"); err != nil {
			dropped++
		}
	}
	if dropped == 0 {
		t.Error("no command dropped past the backlog")
	}
	if !strings.Contains(logs.String(), "queue full") {
		t.Errorf("log lacks the drop:\n%s", logs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v past its 300ms deadline", d)
	}
}

func TestQueueStopsWithContext(t *testing.T) {
	log, logs := testLogger()
	ctx, cancel := context.WithCancel(context.Background())
	q := NewQueue(ctx, log, time.Minute)
	_ = q.Enqueue("/bin/sleep 100")
	_ = q.Enqueue("/bin/true")
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-q.done:
	case <-time.After(3 * time.Second):
		t.Fatal("worker still running 3s after its context ended")
	}
	if !strings.Contains(logs.String(), "script dropped: stopping") {
		t.Errorf("log lacks the dropped command:\n%s", logs)
	}
}
