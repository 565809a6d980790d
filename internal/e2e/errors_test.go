package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The failures an operator meets first say what to do, not which system call failed: a
// missing interface, running without root (no CAP_NET_RAW), the control socket's
// permissions. (IPVS missing from the kernel: noipvs_test.go.)
func TestFriendlyErrors(t *testing.T) {
	l := newLab(t)
	// A directory the unprivileged user can read and write, with the binary in it.
	dir, err := os.MkdirTemp("", "lvsd-errors-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "lvsd")
	b, err := os.ReadFile(lvsdBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.hcl", LvsdConfig("r1", filepath.Join(dir, "good.sock"), Spec{Priority: 100}))
	missing := write("missing.hcl", LvsdConfig("r1", filepath.Join(dir, "missing.sock"), Spec{Priority: 100, Interface: "eth9"}))
	nobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"}
	rootOnly := filepath.Join(dir, "private")
	if err := os.Mkdir(rootOnly, 0o700); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		argv []string
		want []string
		not  []string
	}{
		{"missing interface", []string{bin, "run", "--config", missing},
			[]string{`eth9`, `does not exist on this host`, "ip link", "fix the name in the configuration"},
			[]string{"route ip+net", "no such network interface"}},
		{"not root: control socket", append(nobody, bin, "run", "--config", good, "--socket", filepath.Join(rootOnly, "s.sock")),
			[]string{"permission denied: run lvsd as root, or set --socket"}, nil},
		{"not root: no CAP_NET_RAW", append(nobody, bin, "run", "--config", good, "--socket", filepath.Join(dir, "nobody.sock")),
			[]string{"no permission to open the VRRP socket", "run lvsd as root, or give it CAP_NET_RAW and CAP_NET_ADMIN"},
			[]string{"listen ip4:112", "socket: operation not permitted"}},
	} {
		out, err := l.R1.Exec(tc.argv[0], tc.argv[1:]...)
		if err == nil {
			t.Errorf("%s: lvsd run succeeded:\n%s", tc.name, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%s: output shows the system call (%q):\n%s", tc.name, w, out)
			}
		}
	}

	// lvsd status as an unprivileged user, against root's daemon.
	sock := filepath.Join(dir, "good.sock")
	p, err := l.R1.Start(bin, "run", "--config", good)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	d := &Lvsd{Host: l.R1, Socket: sock, Proc: p}
	if err := d.WaitState("VI_1", "MASTER", electTimeout); err != nil {
		t.Fatalf("%v\n%s", err, p.Output())
	}
	out, err := l.R1.Exec(nobody[0], append(nobody[1:], bin, "status", "--socket", sock)...)
	if err == nil || !strings.Contains(out, "permission denied on "+sock+": the control socket is root's only (mode 0600); run the command as root (sudo)") ||
		strings.Contains(out, "dial unix") {
		t.Errorf("lvsd status as nobody: %v\n%s", err, out)
	}
}
