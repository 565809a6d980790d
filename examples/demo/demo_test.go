package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/netns"
)

// TestDemo plays the demo on this kernel (VRRP only when it has no IPVS, the whole demo
// when it has): traffic answered, a failover and back, and nothing left behind.
func TestDemo(t *testing.T) {
	netns.RequireRoot(t, testing.Short())
	bin := filepath.Join(t.TempDir(), "lvsd")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/lvsd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out bytes.Buffer
	ipvs := haveIPVS()
	if err := run(context.Background(), &out, bin, ipvs); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	answerers := []string{"dira", "dirb"}
	if ipvs {
		answerers = []string{"rs1", "rs2"}
	}
	for _, want := range append([]string{"dira is MASTER", "dirb took over", "dira is MASTER again", "lvsd in dira stopped", "lvsd in dirb stopped"},
		"->  hello from "+answerers[0], "->  hello from "+answerers[1]) {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`deleted the namespaces (lv[0-9a-f]+)-\*`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no clean-up line:\n%s", text)
	}
	if list, err := exec.Command("ip", "netns", "list").Output(); err != nil || strings.Contains(string(list), m[1]) {
		t.Errorf("namespaces of the demo left behind (%v):\n%s", err, list)
	}
}
