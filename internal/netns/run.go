package netns

import (
	"bytes"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	vnetns "github.com/vishvananda/netns"
)

// Do runs f on an OS thread switched into namespace ns and returns f's error. Sockets and
// netlink handles that f opens stay in ns after f returns. f must not start goroutines that
// expect to be in ns (they run on other threads), nor call t.Fatal (it runs on its own
// goroutine). If the thread cannot be switched back, it is thrown away rather than reused.
func Do(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := vnetns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("current namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := vnetns.GetFromName(ns)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer target.Close()
		if err := vnetns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := vnetns.Set(orig); err != nil {
			// Leave the thread locked: it ends with this goroutine instead of carrying
			// the lab's namespace into unrelated code.
			errc <- fmt.Errorf("leave namespace %s: %w (after: %v)", ns, err, ferr)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Do runs f inside the host's namespace, see the package function Do.
func (h *Host) Do(f func() error) error { return Do(h.NS, f) }

// Proc is a background process started in a namespace. Its combined output is kept.
type Proc struct {
	Cmd *exec.Cmd
	PID int

	out    *syncBuffer
	waited chan struct{}
	err    error
}

// Start starts name args... inside the host's namespace (`ip netns exec`, which execs in
// place, so PID is the command's own). The lab kills it on Close.
func (h *Host) Start(name string, args ...string) (*Proc, error) {
	return h.Lab.start(h.NS, name, args...)
}

func (l *Lab) start(ns, name string, args ...string) (*Proc, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil, errLabClosed
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	// Own process group: a signal to the test's group (Ctrl-C) is not what stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s in %s: %w", name, ns, err)
	}
	p := &Proc{Cmd: cmd, PID: cmd.Process.Pid, out: buf, waited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.waited)
	}()
	l.procs = append(l.procs, p)
	return p, nil
}

// Signal sends sig to the process (by PID), unless it has already exited.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.waited:
		return nil
	default:
	}
	return syscall.Kill(p.PID, sig)
}

// Kill sends SIGKILL and waits for the process to end.
func (p *Proc) Kill() {
	_ = p.Signal(syscall.SIGKILL)
	<-p.waited
}

// Wait waits up to d for the process to exit; it reports whether it did and its error.
func (p *Proc) Wait(d time.Duration) (bool, error) {
	select {
	case <-p.waited:
		return true, p.err
	case <-time.After(d):
		return false, nil
	}
}

// Exited is closed when the process has ended.
func (p *Proc) Exited() <-chan struct{} { return p.waited }

// Output returns what the process wrote so far (stdout and stderr).
func (p *Proc) Output() string { return p.out.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
