package daemon

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/lvs"
	"github.com/lvsd/lvsd/lvs/lvstest"
)

func TestOwnedRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lvsd.sock.owned.json")
	if keys, err := loadOwned(path); err != nil || keys != nil {
		t.Fatalf("missing file: %v, %v", keys, err)
	}
	want := []lvs.Key{
		lvs.AddrKey(lvs.TCP, netip.MustParseAddr("10.0.0.1"), 80),
		lvs.FWMarkKey(lvs.IPv6, 3),
		lvs.AddrKey(lvs.UDP, netip.MustParseAddr("2001:db8::1"), 53),
	}
	if err := saveOwned(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadOwned(path)
	if err != nil || !sameKeys(got, want) {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	if err := saveOwned(path, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("empty set left the file: %v", err)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOwned(path); err == nil {
		t.Error("corrupt file accepted")
	}
}

// A service a previous run owned, and that the new config dropped, is deleted after a
// restart; a foreign service is left alone.
func TestRestartRemovesDroppedService(t *testing.T) {
	dir := t.TempDir()
	old := lvs.Service{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddr("10.0.0.2"), 80), Scheduler: "rr"}
	foreign := lvs.Service{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddr("10.0.0.3"), 80), Scheduler: "rr"}
	kernel := lvstest.NewKernel(lvs.Table{old, foreign})
	cfg := &config.Config{Global: config.Global{ControlSocket: filepath.Join(dir, "lvsd.sock")}}
	if err := saveOwned(ownedPath(cfg.Global.ControlSocket), []lvs.Key{old.Key}); err != nil {
		t.Fatal(err)
	}
	s := newLVSState(cfg, lvs.NewReconciler(kernel, nil))
	s.push() // the new config has no virtual server
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(ctx, time.Hour, slog.New(slog.DiscardHandler)) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cur, _ := kernel.Services()
		if len(cur) == 1 && cur[0].Key == foreign.Key {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel = %+v, want only the foreign service", cur)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if _, err := os.Stat(ownedPath(cfg.Global.ControlSocket)); !os.IsNotExist(err) {
		t.Errorf("owned file still there after the last owned service went: %v", err)
	}
}
