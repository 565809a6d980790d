package vmtest

import (
	"os/exec"
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       "plain",
		"-test.v":     "-test.v",
		"":            "''",
		"a b":         "'a b'",
		"it's":        `'it'\''s'`,
		"^Test(A|B)$": "'^Test(A|B)$'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestStage2Script(t *testing.T) {
	s := stage2Script(Spec{Binary: "/srv/lvsd/bin/vmtest/e2e.test", Args: []string{"-test.run", "^TestDR$"},
		Env: []string{"FOO=a b"}, Dir: "/srv/lvsd/internal/vmtest/e2e", Modules: []string{"ip_vs"}})
	for _, want := range []string{
		"export FOO='a b'\n",
		"modprobe -a ip_vs ",
		"cd /srv/lvsd/internal/vmtest/e2e || exit 125\n",
		"{ /srv/lvsd/bin/vmtest/e2e.test -test.run '^TestDR$'; echo $? > /run/vmtest/exitcode.tmp; }",
		"mv /run/vmtest/exitcode.tmp /run/vmtest/exitcode\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("stage 2 script lacks %q:\n%s", want, s)
		}
	}
	s = stage2Script(Spec{Script: "echo hi"})
	if !strings.Contains(s, "{ /bin/sh /run/vmtest/payload.sh;") || !strings.Contains(s, "modprobe -a ip_vs ip_vs_rr") {
		t.Errorf("script payload / default modules missing:\n%s", s)
	}
}

func TestInitScriptInsertsModulesInOrder(t *testing.T) {
	s := initScript([]string{"a.ko", "b.ko"})
	ia, ib := strings.Index(s, "insmod /modules/a.ko"), strings.Index(s, "insmod /modules/b.ko")
	im := strings.Index(s, "mount -t 9p")
	if ia < 0 || ib < ia || im < ib {
		t.Errorf("modules not inserted in order before the 9p mount:\n%s", s)
	}
}

// TestInitKeepsHostTmp: init binds the host's /tmp aside before hiding it with a tmpfs.
func TestInitKeepsHostTmp(t *testing.T) {
	s := initScript(nil)
	bind := strings.Index(s, "mount -o bind $R/tmp $R/run/vmtest-hosttmp\n")
	run, tmp := strings.Index(s, "mount -t tmpfs tmpfs $R/run\n"), strings.Index(s, "mount -t tmpfs tmpfs $R/tmp\n")
	if run < 0 || bind < run || tmp < bind {
		t.Errorf("host /tmp not kept aside between the /run and /tmp tmpfs mounts:\n%s", s)
	}
}

func TestANSIStripperAcrossWrites(t *testing.T) {
	var a ansiStripper
	in := []string{"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS\r\n", "Booting..\x1b", "c\x1b[?7", "l\x1b[2Jvmtest: up\r\n"}
	var got strings.Builder
	for _, s := range in {
		got.Write(a.strip([]byte(s)))
	}
	if want := "SeaBIOS\nBooting..vmtest: up\n"; got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
}

// TestStage2BindsTmpCheckout: a binary and working directory under the host's /tmp are
// bind-mounted back over the guest's own tmpfs, once per top directory, before the cd.
func TestStage2BindsTmpCheckout(t *testing.T) {
	s := stage2Script(Spec{Binary: "/tmp/co/bin/vmtest/lvs.test", Dir: "/tmp/co/lvs"})
	bind := strings.Index(s, "mkdir -p /tmp/co && mount --bind /run/vmtest-hosttmp/co /tmp/co")
	cd := strings.Index(s, "cd /tmp/co/lvs")
	if bind < 0 || cd < bind || strings.Count(s, "mount --bind") != 1 {
		t.Errorf("stage 2 does not bring /tmp/co back before using it:\n%s", s)
	}
	if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
		t.Errorf("stage 2 is not valid sh: %v %s\n%s", err, out, s)
	}
	if s := stage2Script(Spec{Binary: "/srv/x.test", Dir: "/tmpfoo"}); strings.Contains(s, "mount --bind") {
		t.Errorf("binds although nothing is under /tmp:\n%s", s)
	}
	if got := hostTmpDirs(Spec{Binary: "/tmp/a/x", Dir: "/tmp/b/../a/y"}); len(got) != 1 || got[0] != "/tmp/a" {
		t.Errorf("hostTmpDirs = %v", got)
	}
}
