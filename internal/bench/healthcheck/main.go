// Command healthcheck benchmarks lvsd's health checker at scale: N TCP checks (default
// 37,205) at delay_loop 1 s against loopback listeners, through the real Manager,
// scheduler and TCP checker. It reports how far each check's start strays from its
// interval, the CPU the checker process used, and its peak RSS.
//
// The listeners run in a child process (this program re-executed with -serve) so that the
// CPU and memory figures are the checker's alone.
//
//	go run ./internal/bench/healthcheck -duration 20s
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
)

func main() {
	var (
		checks    = flag.Int("checks", 37205, "number of TCP checks (real servers)")
		listeners = flag.Int("listeners", 300, "loopback listeners the checks are spread over")
		interval  = flag.Duration("interval", time.Second, "delay_loop of every check")
		duration  = flag.Duration("duration", 20*time.Second, "how long to measure (after one interval of warmup)")
		workers   = flag.Int("workers", healthcheck.DefaultWorkers, "concurrent checks")
		perVS     = flag.Int("per-vs", 1000, "real servers per virtual server")
		serve     = flag.Bool("serve", false, "internal: run the listeners (child process)")
		cpuprof   = flag.String("cpuprofile", "", "write a CPU profile of the measured window to this file")
	)
	flag.Parse()
	raiseNoFile()
	if *serve {
		if err := runListeners(*listeners); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		return
	}
	cpuProfile = *cpuprof
	if err := run(*checks, *listeners, *interval, *duration, *workers, *perVS); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var cpuProfile string

// raiseNoFile lifts the soft open-files limit to the hard one: tens of thousands of
// sockets are open at once.
func raiseNoFile() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}

// runListeners opens n listeners on 127.0.0.1, prints their ports, accepts and closes
// connections until stdin closes.
func runListeners(n int) error {
	var ports []string
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	fmt.Println(strings.Join(ports, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// hist is a lock-free histogram of deviations in 100 µs buckets up to 2 s.
type hist struct {
	buckets [20001]atomic.Int64
	max     atomic.Int64
	n       atomic.Int64
}

const bucket = 100 * time.Microsecond

func (h *hist) add(d time.Duration) {
	if d < 0 {
		d = -d
	}
	i := int(d / bucket)
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	want := int64(float64(n) * q)
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen > want {
			return time.Duration(i+1) * bucket
		}
	}
	return time.Duration(h.max.Load())
}

func (h *hist) within(limit time.Duration) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	var in int64
	for i := 0; i < int(limit/bucket) && i < len(h.buckets); i++ {
		in += h.buckets[i].Load()
	}
	return float64(in) / float64(n)
}

// timed wraps a checker and records how far each start is from one interval after the
// previous start. The scheduler never runs one check twice at once, so last needs no lock.
type timed struct {
	inner    healthcheck.Checker
	interval time.Duration
	last     time.Time
	measure  *atomic.Bool
	h        *hist
	fails    *atomic.Int64
	runs     *atomic.Int64
}

func (c *timed) Check(ctx context.Context) healthcheck.Result {
	now := time.Now()
	if !c.last.IsZero() && c.measure.Load() {
		c.h.add(now.Sub(c.last) - c.interval)
	}
	c.last = now
	r := c.inner.Check(ctx)
	if c.measure.Load() {
		c.runs.Add(1)
		if !r.Up {
			c.fails.Add(1)
		}
	}
	return r
}

type usage struct {
	cpu    time.Duration
	maxRSS int64 // KiB
}

func getUsage(who int) usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return usage{
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		maxRSS: ru.Maxrss,
	}
}

// startChild runs the listeners in a child process (this program with -serve) and returns
// their addresses and a function that stops it.
func startChild(listeners int) ([]netip.AddrPort, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	child := exec.Command(self, "-serve", "-listeners", strconv.Itoa(listeners))
	stdin, err := child.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		return nil, nil, fmt.Errorf("start listeners: %w", err)
	}
	stop := func() { stdin.Close(); _ = child.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("read listener ports: %w", err)
	}
	var targets []netip.AddrPort
	for _, p := range strings.Fields(line) {
		port, _ := strconv.Atoi(p)
		targets = append(targets, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	}
	return targets, stop, nil
}

func run(checks, listeners int, interval, duration time.Duration, workers, perVS int) error {
	targets, stop, err := startChild(listeners)
	if err != nil {
		return err
	}
	defer stop()
	return measure(os.Stdout, targets, checks, interval, duration, workers, perVS)
}

// measure runs the checks against targets and prints the table to w.
func measure(w io.Writer, targets []netip.AddrPort, checks int, interval, duration time.Duration, workers, perVS int) error {
	var (
		h         hist
		measuring atomic.Bool
		fails     atomic.Int64
		runs      atomic.Int64
	)
	var vss []healthcheck.VirtualServer
	for i := 0; i < checks; i++ {
		if i%perVS == 0 {
			vss = append(vss, healthcheck.VirtualServer{
				Name:      fmt.Sprintf("192.0.2.%d:80", len(vss)+1),
				DelayLoop: interval,
				Quorum:    1,
			})
		}
		vs := &vss[len(vss)-1]
		// A distinct real server address per check; the check connects to a listener
		// (connect_ip/connect_port), as a check of a real server's health port would.
		rs := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 80)
		tcp := healthcheck.NewTCPChecker(healthcheck.TCPConfig{ConnOpts: healthcheck.ConnOpts{Target: targets[i%len(targets)]}.WithDefaults(rs)})
		vs.RealServers = append(vs.RealServers, healthcheck.RealServer{
			Address: rs, Weight: 1,
			// keepalived's tcp_check defaults: retry 1, first checks spread over delay_loop.
			Checks: []healthcheck.Check{{Custom: &timed{inner: tcp, interval: interval, measure: &measuring, h: &h, fails: &fails, runs: &runs},
				Retry: 1, DelayBeforeRetry: time.Second, Warmup: interval}},
		})
	}
	var changes atomic.Int64
	m, err := healthcheck.NewManager(vss, healthcheck.Options{
		Log:      slog.New(slog.DiscardHandler),
		Workers:  workers,
		OnChange: func(string, []healthcheck.Dest) { changes.Add(1) },
	})
	if err != nil {
		return err
	}
	vss = nil

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	// Warm up for one interval plus a bit (the first checks are spread over it), then
	// measure.
	time.Sleep(interval + interval/2)
	measuring.Store(true)
	u0, t0 := getUsage(syscall.RUSAGE_SELF), time.Now()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
	}
	// Baseline: how late a plain 10 ms sleep wakes on this machine meanwhile; on a shared,
	// loaded machine that, not the checker, bounds the lateness figures.
	var base hist
	baseDone := make(chan struct{})
	go func() {
		defer close(baseDone)
		for end := time.Now().Add(duration); time.Now().Before(end); {
			t := time.Now()
			time.Sleep(10 * time.Millisecond)
			base.add(time.Since(t) - 10*time.Millisecond)
		}
	}()
	time.Sleep(duration)
	<-baseDone
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	u1, wall := getUsage(syscall.RUSAGE_SELF), time.Since(t0)
	measuring.Store(false)
	stopAt := time.Now()
	cancel()
	if err := <-done; err != nil {
		return err
	}
	stopTook := time.Since(stopAt)

	cores := float64(u1.cpu-u0.cpu) / float64(wall)
	limit := interval / 10
	fmt.Fprintf(w, "lvsd healthcheck benchmark: %d TCP checks, delay_loop %v, %d loopback listeners, %d workers, %d virtual servers\n",
		checks, interval, len(targets), workers, (checks+perVS-1)/perVS)
	fmt.Fprintf(w, "measured %v after %v warmup, GOMAXPROCS %d\n", wall.Round(time.Millisecond), interval+interval/2, runtime.GOMAXPROCS(0))
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(w, "machine: %d CPUs, load average at end %s\n", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(w, "| metric | value |\n|---|---|\n")
	fmt.Fprintf(w, "| checks run | %d (%.0f/s) |\n", runs.Load(), float64(runs.Load())/wall.Seconds())
	fmt.Fprintf(w, "| failed checks | %d |\n", fails.Load())
	fmt.Fprintf(w, "| intervals measured | %d |\n", h.n.Load())
	fmt.Fprintf(w, "| interval deviation p50 | %v |\n", h.quantile(0.50))
	fmt.Fprintf(w, "| interval deviation p99 | %v |\n", h.quantile(0.99))
	fmt.Fprintf(w, "| interval deviation p99.9 | %v |\n", h.quantile(0.999))
	fmt.Fprintf(w, "| interval deviation max | %v |\n", time.Duration(h.max.Load()).Round(time.Microsecond))
	fmt.Fprintf(w, "| within 10%% of interval (±%v) | %.4f%% |\n", limit, 100*h.within(limit))
	fmt.Fprintf(w, "| baseline: a 10 ms sleep's lateness p50 / p99 / max | %v / %v / %v |\n", base.quantile(0.5), base.quantile(0.99), time.Duration(base.max.Load()).Round(time.Microsecond))
	fmt.Fprintf(w, "| CPU (user+sys / wall) | %.3f cores |\n", cores)
	if n := runs.Load(); n > 0 {
		per := (u1.cpu - u0.cpu) / time.Duration(n)
		fmt.Fprintf(w, "| CPU per check | %v |\n", per.Round(100*time.Nanosecond))
		fmt.Fprintf(w, "| projected CPU at the full rate (%d checks per %v) | %.3f cores |\n", checks, interval, float64(per)*float64(checks)/float64(interval))
	}
	fmt.Fprintf(w, "| peak RSS | %.1f MiB |\n", float64(u1.maxRSS)/1024)
	fmt.Fprintf(w, "| destination changes (must be 0 after start) | %d |\n", changes.Load()-int64((checks+perVS-1)/perVS))
	fmt.Fprintf(w, "| Stop took | %v |\n", stopTook.Round(time.Millisecond))
	return nil
}
