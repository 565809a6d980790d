package lvs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDirectorSysctls(t *testing.T) {
	keys := func(s []Sysctl) []string {
		out := []string{}
		for _, x := range s {
			if x.Reason == "" {
				t.Errorf("%s has no reason", x.Key)
			}
			out = append(out, x.Key+"="+x.Value)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		kinds  []Forward
		ifaces []string
		want   []string
	}{
		{"nothing", nil, []string{"eth0"}, []string{}},
		{"NAT", []Forward{NAT}, []string{"eth0"}, []string{"net.ipv4.ip_forward=1"}},
		{"DR", []Forward{DR, DR}, []string{"eth0", "eth1", "eth0"}, []string{
			"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
			"net.ipv4.conf.eth0.send_redirects=0", "net.ipv4.conf.eth1.send_redirects=0"}},
		{"TUN needs nothing", []Forward{TUN}, []string{"eth0"}, []string{}},
		{"NAT and DR", []Forward{DR, NAT}, []string{"eth0.100"}, []string{"net.ipv4.ip_forward=1",
			"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
			"net.ipv4.conf.eth0.100.send_redirects=0"}},
	} {
		if got := keys(DirectorSysctls(tc.kinds, tc.ifaces)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSysctlPath(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":                   "/proc/sys/net/ipv4/ip_forward",
		"net.ipv4.conf.all.send_redirects":      "/proc/sys/net/ipv4/conf/all/send_redirects",
		"net.ipv4.conf.eth0.100.send_redirects": "/proc/sys/net/ipv4/conf/eth0.100/send_redirects",
		"net.ipv6.conf.br-lan.forwarding":       "/proc/sys/net/ipv6/conf/br-lan/forwarding",
		"net.ipv4.vs.backup_only":               "/proc/sys/net/ipv4/vs/backup_only",
	} {
		if got := SysctlPath("", key); got != want {
			t.Errorf("SysctlPath(%q) = %s, want %s", key, got, want)
		}
	}
}

// ApplySysctls against a directory standing in for /proc/sys: written values, and a
// missing interface reported without stopping the others.
func TestApplySysctls(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"net/ipv4/conf/all", "net/ipv4/conf/default", "net/ipv4/conf/eth0"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res := ApplySysctls(ProcSys{Root: root}, DirectorSysctls([]Forward{DR}, []string{"eth9", "eth0"}))
	if len(res) != 4 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		wantErr := r.Key == "net.ipv4.conf.eth9.send_redirects"
		if (r.Err != nil) != wantErr || r.Applied == wantErr {
			t.Errorf("%s: applied %v err %v", r.Key, r.Applied, r.Err)
		}
		if wantErr {
			if !errors.Is(r.Err, os.ErrNotExist) {
				t.Errorf("%s: %v", r.Key, r.Err)
			}
			continue
		}
		b, err := os.ReadFile(SysctlPath(root, r.Key))
		if err != nil || string(b) != "0\n" {
			t.Errorf("%s: file %q, %v", r.Key, b, err)
		}
	}
}
