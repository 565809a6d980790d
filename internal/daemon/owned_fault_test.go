package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/lvs/lvstest"
)

// logWatch records whether a log line containing want was written (slog's text handler
// writes each record in one call).
type logWatch struct {
	want string
	seen atomic.Bool
}

func (w *logWatch) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.want)) {
		w.seen.Store(true)
	}
	return len(p), nil
}

// TestUnwritableOwnedFile: when the owned-services file cannot be written (here its
// directory is a regular file; root ignores permission bits, and a full disk fails the same
// calls), IPVS is still programmed, a warning is logged, and the file is written as soon as
// it can be.
func TestUnwritableOwnedFile(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "run")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("t.hcl", []byte(`global { control_socket = "`+filepath.Join(blocker, "lvsd.sock")+`" }
virtual_server "192.0.2.1:80" {
  real_server "192.0.2.2:80" {}
}`))
	if err != nil {
		t.Fatal(err)
	}
	kernel := lvstest.NewKernel(nil)
	s := newLVSState(cfg, lvs.NewReconciler(kernel, nil))
	s.push()
	logs := &logWatch{want: "remember owned IPVS services"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(ctx, 50*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil))) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, "the service in the kernel and a warning", func() bool {
		cur, _ := kernel.Services()
		return len(cur) == 1 && logs.seen.Load()
	})
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the owned file once writable", func() bool {
		keys, err := loadOwned(ownedPath(cfg.Global.ControlSocket))
		return err == nil && len(keys) == 1
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
