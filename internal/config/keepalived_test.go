package config

import (
	"strings"
	"testing"
)

func TestKeepalivedKeywordNotSupported(t *testing.T) {
	_, err := Parse("t.hcl", []byte(`vrrp_instance "V" {
  interface         = "eth0"
  virtual_router_id = 1
  use_vmac          = true
}
`))
	want := `t.hcl:4:3: unknown attribute "use_vmac" in vrrp_instance "V": a keepalived keyword not supported by lvsd (VRRP virtual MAC interfaces)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestKeepalivedSyntaxDetected(t *testing.T) {
	for _, src := range []string{
		"global_defs {\n  router_id a\n}\n",
		"vrrp_instance VI_1 {\n  state MASTER\n}\n",
		"! comment\nvirtual_server 10.0.0.1 80 {\n  lb_algo rr\n}\n",
		"virtual_server fwmark 1 {\n delay_loop 6\n}\n",
	} {
		_, err := Parse("k.conf", []byte(src))
		ds, ok := err.(Diagnostics)
		if !ok || len(ds) != 1 || !ds[0].IsKeepalivedSyntax() || !strings.Contains(ds[0].Message, "lvsd convert k.conf") {
			t.Errorf("%q: got %v, want the one keepalived.conf diagnostic", src, err)
		}
	}
	// An HCL file with a syntax error is not mistaken for one.
	_, err := Parse("t.hcl", []byte("vrrp_instance \"VI_1\" {\n  interface = \n}\n"))
	if ds, ok := err.(Diagnostics); !ok || len(ds) == 0 || ds[0].IsKeepalivedSyntax() {
		t.Errorf("HCL with a syntax error: %v", err)
	}
}

func TestKnown(t *testing.T) {
	for _, tc := range []struct {
		path []string
		name string
		want bool
	}{
		{nil, "vrrp_instance", true},
		{[]string{"vrrp_instance"}, "priority", true},
		{[]string{"vrrp_instance"}, "authentication", true},
		{[]string{"virtual_server", "real_server", "http_get", "url"}, "digest", true},
		{[]string{"vrrp_instance"}, "use_vmac", false},
		{[]string{"nosuch"}, "priority", false},
	} {
		if got := Known(tc.path, tc.name); got != tc.want {
			t.Errorf("Known(%v, %q) = %v", tc.path, tc.name, got)
		}
	}
}
