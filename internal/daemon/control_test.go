package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
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
	go func() { done <- ServeControl(ctx, ln, &fakeController{status: want}, slog.New(slog.DiscardHandler)) }()

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

// fakeController answers the control socket with fixed replies and records plan paths.
type fakeController struct {
	status       Status
	reload, plan Result
	planned      []string
}

func (f *fakeController) Status() Status                { return f.status }
func (f *fakeController) Reload(context.Context) Result { return f.reload }
func (f *fakeController) Plan(_ context.Context, p string) Result {
	f.planned = append(f.planned, p)
	return f.plan
}

func TestControlReloadAndPlan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lvsd.sock")
	ln, err := ListenControl(path)
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeController{
		reload: Result{Applied: true, Changes: []config.Change{{Op: config.OpChange, Kind: config.KindVRRPInstance, ID: "eth0 vrid 51 IPv4 multicast", Name: "VI_1"}}},
		plan:   Result{Problems: []string{"/etc/lvsd/x.hcl:3:5: unknown attribute"}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeControl(ctx, ln, fc, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	qctx, qcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer qcancel()
	r, err := RequestReload(qctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Applied || len(r.Changes) != 1 || r.Changes[0].Name != "VI_1" {
		t.Errorf("reload reply %+v", r)
	}
	p, err := RequestPlan(qctx, path, "relative.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) != 1 || p.Applied {
		t.Errorf("plan reply %+v", p)
	}
	if len(fc.planned) != 1 || !filepath.IsAbs(fc.planned[0]) || filepath.Base(fc.planned[0]) != "relative.hcl" {
		t.Errorf("the daemon was asked to plan %q, want the absolute path", fc.planned)
	}
	if _, err := RequestReload(qctx, filepath.Join(t.TempDir(), "none.sock")); err == nil || !strings.Contains(err.Error(), "no lvsd is listening") {
		t.Errorf("reload without a daemon: %v", err)
	}
}
