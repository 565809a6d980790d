// Package dist holds what lvsd ships besides the binary (systemd unit, example config,
// packaging script, Grafana dashboard); its tests build and inspect the packages.
package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repo is the repository root (tests run in dist/).
const repo = ".."

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func needBuild(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds lvsd and its packages; skipped with testing.Short")
	}
}

// gitVersion is what the Makefile stamps into the binary.
func gitVersion(t *testing.T) string {
	return strings.TrimSpace(run(t, repo, "git", "describe", "--tags", "--always", "--dirty"))
}

// The unit passes systemd-analyze verify: known keys, valid values, ExecStart/ExecReload
// binaries present, the man page of Documentation= installed.
func TestUnitVerifies(t *testing.T) {
	needBuild(t)
	dir := t.TempDir()
	stage := filepath.Join(dir, "stage")
	run(t, repo, "make", "-s", "install", "DESTDIR="+stage, "PREFIX="+filepath.Join(dir, "usr"), "SYSCONFDIR="+filepath.Join(dir, "etc"))
	unit := filepath.Join(stage, dir, "usr/lib/systemd/system/lvsd.service")
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	// The installed unit points at the installed binary and configuration.
	bin := filepath.Join(dir, "usr/sbin/lvsd")
	for _, want := range []string{"ExecStart=" + bin + " run --config " + filepath.Join(dir, "etc/lvsd"), "ExecReload=" + bin + " reload", "Type=notify"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("installed unit lacks %q:\n%s", want, b)
		}
	}
	// systemd-analyze wants the binaries at the paths the unit names: move the staged tree
	// to where it says it is.
	if err := os.Rename(filepath.Join(stage, dir, "usr"), filepath.Join(dir, "usr")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", filepath.Join(dir, "usr/lib/systemd/system/lvsd.service"))
	cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(dir, "usr/share/man"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The example configuration is valid.
	run(t, repo, bin, "validate", "--config", filepath.Join(stage, dir, "etc/lvsd"))
}

func TestDeb(t *testing.T) {
	needBuild(t)
	deb := lastLine(run(t, repo, "make", "-s", "deb")) // relative to repo, where run runs
	defer os.Remove(filepath.Join(repo, deb))
	version := strings.TrimSpace(run(t, repo, "sh", "dist/package.sh", "version", gitVersion(t)))
	arch := strings.TrimSpace(run(t, repo, "dpkg", "--print-architecture"))
	if deb != "bin/lvsd_"+version+"_"+arch+".deb" {
		t.Errorf("package %s, want bin/lvsd_%s_%s.deb", deb, version, arch)
	}
	info := run(t, repo, "dpkg-deb", "-I", deb)
	for _, want := range []string{"Package: lvsd\n", "Version: " + version + "\n", "Architecture: " + arch + "\n",
		"Depends: iptables, kmod\n", "Description: VRRP failover"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
		}
	}
	if conf := run(t, repo, "dpkg-deb", "-I", deb, "conffiles"); conf != "/etc/lvsd/lvsd.hcl\n" {
		t.Errorf("conffiles: %q, want the example config", conf)
	}
	files := run(t, repo, "dpkg-deb", "-c", deb)
	for _, want := range []string{"./usr/sbin/lvsd", "./lib/systemd/system/lvsd.service", "./usr/share/man/man8/lvsd.8.gz",
		"./etc/lvsd/lvsd.hcl", "./usr/share/bash-completion/completions/lvsd", "./usr/share/zsh/vendor-completions/_lvsd",
		"./usr/share/fish/vendor_completions.d/lvsd.fish", "./usr/share/doc/lvsd/grafana-dashboard.json"} {
		if !strings.Contains(files, " "+want+"\n") {
			t.Errorf("package lacks %s:\n%s", want, files)
		}
	}
	if !strings.Contains(files, "-rwxr-xr-x root/root") || !strings.HasPrefix(files, "drwxr-xr-x root/root") {
		t.Errorf("want files owned by root, the binary executable, / mode 0755:\n%s", files)
	}
	// The packaged binary says which commit it is.
	x, _ := filepath.Abs(t.TempDir())
	run(t, repo, "dpkg-deb", "-x", deb, x)
	if got := run(t, repo, filepath.Join(x, "usr/sbin/lvsd"), "version"); got != "lvsd "+gitVersion(t)+"\n" {
		t.Errorf("lvsd version = %q, want the git describe %q", got, gitVersion(t))
	}
}

func TestRPM(t *testing.T) {
	needBuild(t)
	rpm := lastLine(run(t, repo, "make", "-s", "rpm"))
	defer os.Remove(filepath.Join(repo, rpm))
	version := strings.TrimSpace(run(t, repo, "sh", "dist/package.sh", "version", gitVersion(t)))
	info := run(t, repo, "rpm", "-qip", rpm)
	for _, want := range []string{"Name        : lvsd", "Version     : " + version} {
		if !strings.Contains(info, want) {
			t.Errorf("rpm -qi lacks %q:\n%s", want, info)
		}
	}
	files := run(t, repo, "rpm", "-qlp", rpm)
	for _, want := range []string{"/usr/sbin/lvsd", "/usr/lib/systemd/system/lvsd.service", "/usr/share/man/man8/lvsd.8.gz",
		"/etc/lvsd/lvsd.hcl", "/usr/share/bash-completion/completions/lvsd"} {
		if !strings.Contains(files, want+"\n") {
			t.Errorf("rpm lacks %s:\n%s", want, files)
		}
	}
	if conf := run(t, repo, "rpm", "-qcp", rpm); strings.TrimSpace(conf) != "/etc/lvsd/lvsd.hcl" {
		t.Errorf("rpm config files: %q", conf)
	}
}

func TestPackageVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.0":                  "1.2.0",
		"v1.2.0-3-gabc1234":       "1.2.0+3.gabc1234",
		"v1.2.0-3-gabc1234-dirty": "1.2.0+3.gabc1234.dirty",
		"abc1234":                 "0.0.0+git.abc1234",
		"1234abc-dirty":           "0.0.0+git.1234abc.dirty",
	} {
		if got := strings.TrimSpace(run(t, repo, "sh", "dist/package.sh", "version", in)); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
