package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestControlSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "lvsd.sock")
	ln, err := ListenControl(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("socket mode %o, want 600", mode)
	}
	want := Status{RouterID: "a", VRRP: []VRRPStatus{{Name: "VI_1", State: "MASTER", VIPs: []string{"192.0.2.10/32"}}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeControl(ctx, ln, func() Status { return want }, slog.New(slog.DiscardHandler)) }()

	// A second daemon must not steal a live socket.
	if _, err := ListenControl(path); err == nil || !strings.Contains(err.Error(), "another lvsd") {
		t.Errorf("second listener: err = %v, want 'another lvsd'", err)
	}
	qctx, qcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer qcancel()
	got, err := FetchStatus(qctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.RouterID != "a" || len(got.VRRP) != 1 || got.VRRP[0].State != "MASTER" || got.VRRP[0].VIPs[0] != "192.0.2.10/32" {
		t.Errorf("status = %+v", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeControl: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ServeControl did not stop within 2s of its context ending")
	}
	// A stale socket file (daemon gone) is replaced.
	ln2, err := ListenControl(path)
	if err != nil {
		t.Fatalf("relisten over a stale socket: %v", err)
	}
	ln2.Close()
}
