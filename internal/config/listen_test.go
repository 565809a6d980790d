package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsListen(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{`"127.0.0.1:9650"`, "127.0.0.1:9650", ""},
		{`"[::1]:9650"`, "[::1]:9650", ""},
		{`":9650"`, ":9650", ""},
		{`"localhost"`, "", `t.hcl:2:20: metrics_listen: "localhost" is not HOST:PORT`},
		{`"127.0.0.1:http"`, "", `t.hcl:2:20: metrics_listen: "127.0.0.1:http": port must be a number from 1 to 65535`},
		{`"127.0.0.1:70000"`, "", `port must be a number from 1 to 65535`},
	} {
		p := filepath.Join(t.TempDir(), "t.hcl")
		os.WriteFile(p, []byte("global {\n  metrics_listen = "+tc.in+"\n}\n"), 0o644)
		cfg, err := Load(p)
		if tc.err == "" {
			if err != nil || cfg.Global.MetricsListen != tc.want {
				t.Errorf("%s: %v, %+v", tc.in, err, cfg)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
		}
	}
}
