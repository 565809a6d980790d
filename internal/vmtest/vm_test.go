package vmtest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRunBootsAndReportsExitCode boots the real VM once: output, exit status, and that the
// guest kernel really has IPVS.
func TestRunBootsAndReportsExitCode(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a qemu VM: skipped when testing.Short() (-short)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (reads /boot/vmlinuz-*)")
	}
	var console strings.Builder
	res, err := Run(context.Background(), Spec{
		Script:  "echo hello from $(uname -r); cat /proc/net/ip_vs | head -1; ipvsadm -Ln >/dev/null && echo ipvsadm-ok; exit 3",
		Timeout: 3 * time.Minute,
		Stdout:  &console,
		Modules: []string{"ip_vs"},
	})
	if err != nil {
		t.Fatalf("Run: %v\nconsole:\n%s", err, console.String())
	}
	t.Logf("boot %s, total %s", res.Boot.Round(time.Millisecond), res.Elapsed.Round(time.Millisecond))
	if res.ExitCode != 3 {
		t.Errorf("exit code %d, want 3; output:\n%s", res.ExitCode, res.Output)
	}
	for _, want := range []string{"hello from ", "IP Virtual Server version", "ipvsadm-ok"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
}

func TestRunTimeoutKillsQemu(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a qemu VM: skipped when testing.Short() (-short)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (reads /boot/vmlinuz-*)")
	}
	start := time.Now()
	_, err := Run(context.Background(), Spec{Script: "sleep 600", Timeout: 10 * time.Second, Modules: []string{}})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Run returned %s after start despite a 10s timeout", d)
	}
}

func TestRunRejectsTmpItself(t *testing.T) {
	_, err := Run(context.Background(), Spec{Script: "true", Dir: "/tmp"})
	if err == nil || !strings.Contains(err.Error(), "/tmp") {
		t.Fatalf("err = %v, want a refusal naming /tmp", err)
	}
}
