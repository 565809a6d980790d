// Command vmtest builds the in-VM test suites and runs each in one qemu boot of Debian's
// stock kernel (see internal/vmtest and docs/testing.md).
//
//	go run ./internal/vmtest/cmd/vmtest -suite all|lvs|e2e|bench [-run REGEX] [-keep]
//	go run ./internal/vmtest/cmd/vmtest -exec 'ipvsadm -Ln'   # ad-hoc command in the VM
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/vmtest"
)

// pkg is one Go package whose vmtest-tagged tests run in the guest.
type pkg struct {
	name string // binary name under bin/vmtest
	dir  string // package directory relative to the module root
	cmd  bool   // a main package: built with go build and run as is (benchmark programs)
}

// suites maps -suite to packages; "all" is one boot running every package in turn.
var suites = map[string][]pkg{
	"lvs":      {{name: "lvs", dir: "lvs"}},
	"e2e":      {{name: "e2e", dir: "internal/vmtest/e2e"}},
	"examples": {{name: "examples", dir: "examples"}},
	"all":      {{name: "lvs", dir: "lvs"}, {name: "e2e", dir: "internal/vmtest/e2e"}, {name: "examples", dir: "examples"}},
	"bench":    {{name: "lvs", dir: "lvs"}, {name: "ipvsbench", dir: "internal/bench/ipvs", cmd: true}, reloadBench},
	// The reload benchmark alone (it runs lvsd and keepalived, about 10 minutes under TCG).
	"reloadbench": {reloadBench},
}

var reloadBench = pkg{name: "reloadbench", dir: "internal/bench/reload", cmd: true}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vmtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	suite := fs.String("suite", "all", "suite to run: all (lvs, e2e, examples), lvs, e2e, examples, bench (Go benchmarks of lvs, then internal/bench/ipvs and internal/bench/reload) or reloadbench (internal/bench/reload alone)")
	runRe := fs.String("run", "", "passed to the test binaries as -test.run")
	bench := fs.String("bench", ".", "with -suite bench: passed as -test.bench")
	timeout := fs.Duration("timeout", 20*time.Minute, "kill the VM after this long")
	keep := fs.Bool("keep", false, "keep the run directory (initramfs, scripts, output) and print its path")
	quiet := fs.Bool("quiet", false, "do not stream the guest console (the payload's output is still printed)")
	execCmd := fs.String("exec", "", "run this shell command in the VM instead of a suite (debugging)")
	var env envFlag
	fs.Var(&env, "env", "KEY=VALUE for the guest environment (repeatable), e.g. LVSD_E2E_IPVS=ipvsadm")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "vmtest:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	out := io.Writer(stdout)
	if *quiet {
		out = nil
	}
	if *execCmd != "" {
		res, err := vmtest.Run(ctx, vmtest.Spec{Script: *execCmd, Timeout: *timeout, Stdout: out, Keep: *keep, Dir: root, Env: env})
		report(stderr, res, err, *keep)
		if err != nil {
			return 1
		}
		if *quiet {
			fmt.Fprint(stdout, res.Output)
		}
		return res.ExitCode
	}

	pkgs, ok := suites[*suite]
	if !ok {
		fmt.Fprintf(stderr, "vmtest: unknown suite %q (want all, lvs, e2e, examples, bench or reloadbench)\n", *suite)
		return 2
	}
	binDir := filepath.Join(root, "bin", "vmtest")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		fmt.Fprintln(stderr, "vmtest:", err)
		return 1
	}
	failed := false
	// The e2e tests drive the real daemon: build it fresh into bin/vmtest (the guest sees
	// the host's files, so LVSD_BIN points there).
	for _, p := range pkgs {
		if p.name != "e2e" && p.name != "examples" && p != reloadBench {
			continue
		}
		if strings.Contains(strings.Join(env, " "), "LVSD_BIN=") {
			break
		}
		lvsd := filepath.Join(binDir, "lvsd")
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", lvsd, "./cmd/lvsd")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, stderr, stderr
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(stdout, "FAIL\t%s [build of lvsd failed: %v]\n", modulePath(p.dir), err)
			return 1
		}
		env = append(env, "LVSD_BIN="+lvsd)
	}
	var script strings.Builder
	script.WriteString("rc_all=0\n")
	var ran []pkg
	for _, p := range pkgs {
		bin := filepath.Join(binDir, p.name+".test")
		buildArgs := []string{"test", "-c", "-tags", "vmtest", "-o", bin, "./" + p.dir}
		if p.cmd {
			bin = filepath.Join(binDir, p.name)
			buildArgs = []string{"build", "-o", bin, "./" + p.dir}
		}
		os.Remove(bin)
		start := time.Now()
		cmd := exec.CommandContext(ctx, goTool(), buildArgs...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, stderr, stderr
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(stdout, "FAIL\t%s [build failed: %v]\n", modulePath(p.dir), err)
			failed = true
			continue
		}
		if _, err := os.Stat(bin); err != nil {
			fmt.Fprintf(stdout, "?   \t%s\t[no test files]\n", modulePath(p.dir))
			continue
		}
		fmt.Fprintf(stderr, "vmtest: built %s in %s\n", bin, time.Since(start).Round(100*time.Millisecond))
		targs := []string{"-test.v", "-test.timeout", (*timeout - time.Minute).String()}
		if p.cmd {
			targs = nil
		} else if *suite == "bench" {
			targs = append(targs, "-test.run", "^$", "-test.bench", *bench, "-test.benchmem")
		} else if *runRe != "" {
			targs = append(targs, "-test.run", *runRe)
		}
		fmt.Fprintf(&script, "cd %s && start=$(date +%%s.%%N) && %s", shq(filepath.Join(root, p.dir)), shq(bin))
		for _, a := range targs {
			fmt.Fprintf(&script, " %s", shq(a))
		}
		fmt.Fprintf(&script, "; rc=$?\necho \"%s %s $rc $start $(date +%%s.%%N)\"\n[ $rc -eq 0 ] || rc_all=1\n", resultMarker, p.name)
		ran = append(ran, p)
	}
	if len(ran) == 0 {
		if failed {
			return 1
		}
		return 0
	}
	script.WriteString("exit $rc_all\n")
	res, err := vmtest.Run(ctx, vmtest.Spec{Script: script.String(), Timeout: *timeout, Stdout: out, Keep: *keep, Dir: root, Env: env})
	report(stderr, res, err, *keep)
	if *quiet {
		fmt.Fprint(stdout, res.Output)
	}
	results := parseResults(res.Output)
	for _, p := range ran {
		r, ok := results[p.name]
		switch {
		case !ok:
			fmt.Fprintf(stdout, "FAIL\t%s [did not finish in the VM]\n", modulePath(p.dir))
			failed = true
		case r.rc != 0:
			fmt.Fprintf(stdout, "FAIL\t%s\t%.3fs\n", modulePath(p.dir), r.secs)
			failed = true
		default:
			fmt.Fprintf(stdout, "ok  \t%s\t%.3fs\n", modulePath(p.dir), r.secs)
		}
	}
	if err != nil || res.ExitCode != 0 {
		failed = true
	}
	if failed {
		return 1
	}
	return 0
}

// envFlag collects repeated -env KEY=VALUE flags.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }
func (e *envFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q: want KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

// resultMarker prefixes the per-package line the guest script prints after each binary.
const resultMarker = "VMTEST-RESULT"

type pkgResult struct {
	rc   int
	secs float64
}

// parseResults reads "VMTEST-RESULT name rc start end" lines (times in epoch seconds) from
// the guest output.
func parseResults(out string) map[string]pkgResult {
	m := map[string]pkgResult{}
	re := regexp.MustCompile(`(?m)^` + resultMarker + ` (\S+) (\d+) ([0-9.]+) ([0-9.]+)\s*$`)
	for _, g := range re.FindAllStringSubmatch(out, -1) {
		rc, _ := strconv.Atoi(g[2])
		start, _ := strconv.ParseFloat(g[3], 64)
		end, _ := strconv.ParseFloat(g[4], 64)
		m[g[1]] = pkgResult{rc: rc, secs: end - start}
	}
	return m
}

func report(w io.Writer, res vmtest.Result, err error, keep bool) {
	if err != nil {
		fmt.Fprintln(w, err)
	}
	fmt.Fprintf(w, "vmtest: boot %s, VM total %s, payload exit %d\n",
		res.Boot.Round(100*time.Millisecond), res.Elapsed.Round(100*time.Millisecond), res.ExitCode)
	if keep && res.RunDir != "" {
		fmt.Fprintf(w, "vmtest: run directory kept: %s\n", res.RunDir)
	}
}

// moduleRoot finds the directory holding go.mod, from the working directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above: run from the repository")
		}
		dir = parent
	}
}

func modulePath(dir string) string { return "github.com/lvsd/lvsd/" + dir }

// goTool is the go command running us (go run), else the one on PATH.
func goTool() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
