package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// jsonLines decodes every line of out as a JSON object; it fails the test on any other.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("line is not JSON: %q", line)
			continue
		}
		recs = append(recs, m)
	}
	return recs
}

func TestJSONLogDurationsInSeconds(t *testing.T) {
	var b bytes.Buffer
	log, err := newLogger(&b, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("reconciled", "took", 1500*time.Millisecond, "group", map[string]int{"n": 1})
	log.WithGroup("check").Info("done", "latency", 250*time.Microsecond)
	recs := jsonLines(t, b.String())
	if len(recs) != 2 || recs[0]["took"] != 1.5 {
		t.Fatalf("took: want 1.5 (seconds), got %s", b.String())
	}
	if g, _ := recs[1]["check"].(map[string]any); g == nil || g["latency"] != 0.00025 {
		t.Errorf("grouped duration: want 0.00025, got %s", b.String())
	}
	// Text keeps Go's readable form.
	b.Reset()
	log, _ = newLogger(&b, "text", "info")
	log.Info("reconciled", "took", 1500*time.Millisecond)
	if !strings.Contains(b.String(), "took=1.5s") {
		t.Errorf("text: %q", b.String())
	}
}

// With --log-format json, every line lvsd run prints is JSON: configuration warnings and
// problems included.
func TestRunJSONConfigDiagnostics(t *testing.T) {
	bad := writeFile(t, "bad.hcl", `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 300
}
`)
	code, out, errOut := runCLI("run", "--log-format", "json", "--config", bad)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	recs := jsonLines(t, errOut)
	var problem, summary bool
	for _, r := range recs {
		switch r["msg"] {
		case "configuration problem":
			problem = r["level"] == "ERROR" && r["file"] == bad && r["line"] == 3.0 && strings.Contains(r["problem"].(string), "virtual_router_id")
		case "invalid configuration: 1 problem, nothing applied":
			summary = true
		}
	}
	if !problem || !summary {
		t.Errorf("want a problem record (line 3) and a summary:\n%s", errOut)
	}

	// A valid config's warnings are records too.
	warn := writeFile(t, "warn.hcl", `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
}
`)
	var b bytes.Buffer
	log, _ := newLogger(&b, "json", "info")
	if _, ok := loadConfig(warn, io.Discard, log); !ok {
		t.Fatal("valid config refused")
	}
	recs = jsonLines(t, b.String())
	if len(recs) != 1 || recs[0]["msg"] != "configuration warning" || recs[0]["line"] != 1.0 {
		t.Errorf("warning record: %s", b.String())
	}
}
