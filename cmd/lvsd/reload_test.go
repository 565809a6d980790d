package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/daemon"
)

// TestReloadAndPlanExitCodes runs a daemon (no VRRP, no IPVS: no root needed) and drives
// `lvsd reload` and `lvsd plan` against it.
func TestReloadAndPlanExitCodes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lvsd.hcl")
	socket := filepath.Join(dir, "lvsd.sock")
	write := func(src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`global { router_id = "a" }`)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(daemon.Options{Config: cfg, ConfigPath: path, Socket: socket, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if code, _, _ := runCLI("status", "--socket", socket); code == exitOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon not answering")
		}
		time.Sleep(10 * time.Millisecond)
	}

	other := filepath.Join(dir, "other.hcl")
	if err := os.WriteFile(other, []byte(`global { router_id = "b" }`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte("global {\n  router_id = 5\n  nope = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"plan", "--config", path, "--socket", socket}, exitOK, "no changes", ""},
		{[]string{"plan", "--config", other, "--socket", socket}, exitPending, `change global: router_id "a" -> "b"`, ""},
		{[]string{"plan", "--config", other, "--socket", socket, "--json"}, exitPending, `"router_id"`, ""},
		{[]string{"plan", "--config", bad, "--socket", socket}, exitFail, "", bad + ":3:3: "},
		{[]string{"plan", "--socket", socket}, exitUsage, "", "--config is required"},
		{[]string{"reload", "--socket", socket}, exitOK, "no changes", ""},
		{[]string{"reload", "--socket", socket, "extra"}, exitUsage, "", "unexpected argument"},
		{[]string{"reload", "--socket", filepath.Join(dir, "none.sock")}, exitFail, "", "no lvsd is listening"},
	}
	for _, tc := range cases {
		code, stdout, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.errs) {
			t.Errorf("lvsd %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.stdout, tc.errs)
		}
	}

	// Reload of a changed file: one line per change, exit 0; of a broken one: exit 1 with
	// positions, and the running configuration stays.
	write(`global { router_id = "b" }`)
	if code, stdout, stderr := runCLI("reload", "--socket", socket); code != exitOK || strings.TrimSpace(stdout) != `change global: router_id "a" -> "b"` {
		t.Errorf("reload: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	write("global {\n  router_id = \"\"\n}\n")
	code, _, stderr := runCLI("reload", "--socket", socket)
	if code != exitFail || !strings.Contains(stderr, path+":2:") || !strings.Contains(stderr, "nothing applied") {
		t.Errorf("reload of a broken config: exit %d, stderr %q", code, stderr)
	}
	if st := d.Status(); st.RouterID != "b" {
		t.Errorf("router_id %q after a failed reload, want b", st.RouterID)
	}
}
