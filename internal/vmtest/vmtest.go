// Package vmtest boots Debian's stock kernel under qemu (TCG) with the host's root shared
// read-only over 9p, runs a script or binary inside as root, and returns its output and exit
// status. It exists because the host kernel has no IPVS: every IPVS-facing test runs here.
//
// Guest layout: the initramfs (busybox + virtio/9p modules) mounts the host's / read-only,
// mounts fresh proc, sysfs, devtmpfs, devpts and tmpfs on /run and /tmp, mounts a writable
// results share on /run/vmtest, chroots into the host root and runs the payload. The host's
// /tmp is hidden in the guest by its own tmpfs; the directories under it that the payload's
// binary and working directory live in are bind-mounted back (read-only), so that a
// checkout under /tmp works too.
package vmtest

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec says what to run in the VM. Exactly one of Script and Binary is set.
type Spec struct {
	Script  string        // sh script run by /bin/sh in the guest
	Binary  string        // absolute host path of a program to run
	Args    []string      // arguments for Binary
	Env     []string      // KEY=VALUE added to the guest environment
	Dir     string        // guest working directory (a host path; default /)
	Timeout time.Duration // whole VM lifetime; default 10 minutes; qemu is killed after it

	Stdout  io.Writer // receives the guest console as it happens (nil: discarded)
	Modules []string  // modprobed before the payload; nil means DefaultModules
	Keep    bool      // keep the run directory (initramfs, scripts, output) for debugging
	WorkDir string    // where the run directory is made; default os.TempDir()
	Kernel  *Kernel   // default FindKernel("/boot", "/lib/modules")
	MemMB   int       // default 2048
	CPUs    int       // default 2
}

// Result is what the payload did.
type Result struct {
	Output   string        // the payload's stdout and stderr
	ExitCode int           // the payload's exit status
	Console  string        // the tail of the guest console (kernel and init messages included)
	Boot     time.Duration // from qemu start to the payload starting
	Elapsed  time.Duration // qemu's whole lifetime
	RunDir   string        // kept only with Spec.Keep
}

const consoleTail = 64 * 1024

// Run boots a VM, runs spec's payload in it and returns its result. The error is non-nil only
// when the harness itself failed (no qemu, no kernel, boot failure, timeout); a payload that
// exits non-zero is reported in Result.ExitCode.
func Run(ctx context.Context, spec Spec) (Result, error) {
	var res Result
	if (spec.Script == "") == (spec.Binary == "") {
		return res, errors.New("vmtest: set exactly one of Spec.Script and Spec.Binary")
	}
	for _, p := range []string{spec.Binary, spec.Dir} {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			return res, fmt.Errorf("vmtest: %s must be an absolute path", p)
		}
		if filepath.Clean(p) == "/tmp" {
			return res, fmt.Errorf("vmtest: %s is the guest's own tmpfs: use a directory under it, or elsewhere", p)
		}
	}
	if spec.Binary != "" {
		if _, err := os.Stat(spec.Binary); err != nil {
			return res, fmt.Errorf("vmtest: payload binary: %w", err)
		}
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return res, errors.New("vmtest: qemu-system-x86_64 not found: install the Debian package qemu-system-x86 (make deps)")
	}
	k := spec.Kernel
	if k == nil {
		found, err := FindKernel("/boot", "/lib/modules")
		if err != nil {
			return res, fmt.Errorf("vmtest: %w", err)
		}
		k = &found
	}
	if spec.Timeout <= 0 {
		spec.Timeout = 10 * time.Minute
	}
	if spec.MemMB <= 0 {
		spec.MemMB = 2048
	}
	if spec.CPUs <= 0 {
		spec.CPUs = 2
	}

	runDir, err := os.MkdirTemp(spec.WorkDir, "vmtest-run-")
	if err != nil {
		return res, fmt.Errorf("vmtest: make run directory: %w", err)
	}
	if spec.Keep {
		res.RunDir = runDir
	} else {
		defer os.RemoveAll(runDir)
	}
	shareDir := filepath.Join(runDir, "share")
	if err := os.Mkdir(shareDir, 0o777); err != nil {
		return res, fmt.Errorf("vmtest: %w", err)
	}
	initrd := filepath.Join(runDir, "initrd.cpio")
	if err := BuildInitramfs(initrd, *k); err != nil {
		return res, fmt.Errorf("vmtest: %w", err)
	}
	if spec.Script != "" {
		if err := os.WriteFile(filepath.Join(shareDir, payloadFile), []byte(spec.Script), 0o755); err != nil {
			return res, fmt.Errorf("vmtest: write payload: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(shareDir, stage2File), []byte(stage2Script(spec)), 0o755); err != nil {
		return res, fmt.Errorf("vmtest: write stage 2: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, spec.Timeout)
	defer cancel()
	args := qemuArgs(*k, initrd, shareDir, spec.MemMB, spec.CPUs)
	if spec.Keep {
		// The exact command, to boot the same VM again by hand (edit share/stage2.sh first).
		q := []string{shellQuote(qemu)}
		for _, a := range args {
			q = append(q, shellQuote(a))
		}
		if err := os.WriteFile(filepath.Join(runDir, "qemu.sh"), []byte("#!/bin/sh\nexec "+strings.Join(q, " ")+"\n"), 0o755); err != nil {
			return res, fmt.Errorf("vmtest: write qemu.sh: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, qemu, args...)
	// CommandContext kills qemu by its PID when ctx ends; Pdeathsig covers a dying harness.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	con := &consoleWriter{out: spec.Stdout, start: time.Now()}
	cmd.Stdout, cmd.Stderr = con, con
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("vmtest: start qemu: %w", err)
	}
	werr := cmd.Wait()
	res.Elapsed = time.Since(con.start)
	res.Boot = con.bootTime()
	res.Console = con.tail()
	if ctx.Err() != nil {
		return res, fmt.Errorf("vmtest: VM killed after %s (timeout %s): %w; console tail:\n%s",
			res.Elapsed.Round(time.Second), spec.Timeout, ctx.Err(), lastLines(res.Console, 30))
	}
	out, _ := os.ReadFile(filepath.Join(shareDir, outputFile))
	res.Output = string(out)
	rc, err := os.ReadFile(filepath.Join(shareDir, exitCodeFile))
	if err != nil {
		return res, fmt.Errorf("vmtest: guest reported no exit code (qemu: %v); console tail:\n%s", werr, lastLines(res.Console, 30))
	}
	res.ExitCode, err = strconv.Atoi(strings.TrimSpace(string(rc)))
	if err != nil {
		return res, fmt.Errorf("vmtest: bad exit code file %q: %w", rc, err)
	}
	if werr != nil {
		return res, fmt.Errorf("vmtest: qemu: %w", werr)
	}
	return res, nil
}

// qemuArgs is the command line: TCG (the host's KVM cannot boot a stock kernel), no NIC,
// serial console on stdio, host root read-only and the results share writable over 9p.
func qemuArgs(k Kernel, initrd, shareDir string, memMB, cpus int) []string {
	return []string{
		"-accel", "tcg,thread=multi", "-cpu", "max",
		"-m", strconv.Itoa(memMB), "-smp", strconv.Itoa(cpus),
		"-nographic", "-vga", "none", "-monitor", "none", "-nic", "none", "-no-reboot",
		"-kernel", k.Image, "-initrd", initrd,
		// no_timer_check: on a loaded host TCG is too slow for the kernel's IO-APIC timer check,
		// which then panics ("IO-APIC + timer doesn't work") before the payload starts.
		"-append", "console=ttyS0 quiet panic=-1 no_timer_check",
		"-fsdev", "local,id=r,path=/,security_model=none,readonly=on,multidevs=remap",
		"-device", "virtio-9p-pci,fsdev=r,mount_tag=" + hostRootTag,
		"-fsdev", "local,id=o,path=" + shareDir + ",security_model=none",
		"-device", "virtio-9p-pci,fsdev=o,mount_tag=" + resultsTag,
	}
}

// BuildInitramfs writes a newc cpio with static busybox, the virtio/9p modules of k (with
// their dependencies, in load order), /init and a modprobe forwarder.
func BuildInitramfs(path string, k Kernel) error {
	bb, err := staticBusybox("/bin/busybox")
	if err != nil {
		return err
	}
	dep, err := os.Open(filepath.Join(k.Modules, "modules.dep"))
	if err != nil {
		return fmt.Errorf("kernel %s: %w", k.Version, err)
	}
	defer dep.Close()
	var builtin io.Reader
	if f, err := os.Open(filepath.Join(k.Modules, "modules.builtin")); err == nil {
		defer f.Close()
		builtin = f
	}
	md, err := parseModDep(dep, builtin)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", k.Version, err)
	}
	order, err := md.loadOrder(bootModules)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", k.Version, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create initramfs: %w", err)
	}
	defer f.Close()
	w := newCpioWriter(f)
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "mnt", "modules", "tmp"} {
		w.Dir(d)
	}
	w.CharDev("dev/console", 5, 1)
	w.CharDev("dev/null", 1, 3)
	w.File("bin/busybox", 0o755, bb)
	w.File("sbin/modprobe", 0o755, []byte(modprobeWrapper))
	var names []string
	for _, p := range order {
		b, err := readModule(filepath.Join(k.Modules, p))
		if err != nil {
			return err
		}
		n := modName(p) + ".ko"
		w.File("modules/"+n, 0o644, b)
		names = append(names, n)
	}
	w.File("init", 0o755, []byte(initScript(names)))
	if err := w.Close(); err != nil {
		return fmt.Errorf("write initramfs %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write initramfs %s: %w", path, err)
	}
	return nil
}

// staticBusybox returns the busybox binary, refusing a dynamically linked one: the
// initramfs has no libc.
func staticBusybox(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("busybox: %w: install the Debian package busybox-static", err)
	}
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("busybox %s: not an ELF binary: %w", path, err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("busybox %s is dynamically linked: install the Debian package busybox-static", path)
		}
	}
	return b, nil
}

// consoleWriter streams the console, keeps its tail and notes when the payload started.
type consoleWriter struct {
	mu      sync.Mutex
	ansi    ansiStripper
	out     io.Writer
	start   time.Time
	buf     []byte
	line    []byte
	started time.Duration
}

func (c *consoleWriter) Write(raw []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.ansi.strip(raw)
	if c.out != nil {
		c.out.Write(p) // a failing viewer must not stop the VM
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) > 2*consoleTail {
		c.buf = append([]byte(nil), c.buf[len(c.buf)-consoleTail:]...)
	}
	if c.started == 0 {
		c.line = append(c.line, p...)
		if bytes.Contains(c.line, []byte(markerStart)) {
			c.started = time.Since(c.start)
			c.line = nil
		} else if i := bytes.LastIndexByte(c.line, '\n'); i >= 0 {
			c.line = append([]byte(nil), c.line[i+1:]...)
		}
	}
	return len(raw), nil
}

// ansiStripper drops terminal control from the serial console: the firmware's "ESC c"
// would reset the terminal of whoever watches the stream. It removes ESC sequences (CSI
// ones up to their final byte, others after one byte) and carriage returns, keeping state
// across writes since a sequence may be split.
type ansiStripper struct{ state int } // 0 text, 1 after ESC, 2 inside CSI

func (a *ansiStripper) strip(p []byte) []byte {
	out := make([]byte, 0, len(p))
	for _, b := range p {
		switch a.state {
		case 0:
			switch b {
			case 0x1b:
				a.state = 1
			case '\r':
			default:
				out = append(out, b)
			}
		case 1:
			if b == '[' {
				a.state = 2
			} else {
				a.state = 0
			}
		case 2:
			if b >= 0x40 && b <= 0x7e {
				a.state = 0
			}
		}
	}
	return out
}

func (c *consoleWriter) bootTime() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

func (c *consoleWriter) tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buf
	if len(b) > consoleTail {
		b = b[len(b)-consoleTail:]
	}
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
