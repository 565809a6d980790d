// Command reload benchmarks a configuration reload at keepalived's largest published
// configuration size (2,277 virtual services, 37,205 real servers; lvs.SyntheticTable) with
// one real server's weight changed, in the same run on the same kernel:
//
//   - lvsd: `lvsd run` with the table as HCL, then `lvsd reload` after the edit: the IPVS
//     operations it applied (from its reconciler's log, goal exactly 1), the lines it
//     printed, the command's wall time and the time until the kernel shows the new weight;
//   - keepalived: its checker process (`keepalived -C`) with the same table as
//     keepalived.conf, then SIGHUP after the same edit: the time until the kernel shows the
//     new weight and until it logs "Reload complete".
//
// Both figures include reading and validating the whole configuration again. The daemons'
// CPU time (user + system, from /proc) per reload is reported too. Each tool gets -rounds
// reloads, the edit toggling one weight between 1 and 2; medians are reported.
//
// It flushes IPVS (ipvsadm -C): run it only in a throwaway VM, as root, e.g.
//
//	go run ./internal/vmtest/cmd/vmtest -suite reloadbench
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/moby/ipvs"

	"github.com/lvsd/lvsd/internal/e2e"
	"github.com/lvsd/lvsd/lvs"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reloadbench:", err)
		os.Exit(1)
	}
}

// bench is one run's shared state: the table, where files go, how to read the kernel.
type bench struct {
	table   lvs.Table
	svc     int // index of the service whose first real server's weight changes
	dir     string
	kernel  *lvs.IPVS
	probe   *ipvs.Handle // reads the one changed service cheaply
	timeout time.Duration
}

// result is one tool's reloads.
type result struct {
	cold    time.Duration   // start until the kernel holds the whole table
	visible []time.Duration // reload start until the kernel shows the new weight
	command []time.Duration // lvsd only: `lvsd reload` wall time
	done    []time.Duration // keepalived only: reload start until it logs "Reload complete"
	cpu     []time.Duration // the daemon's CPU time (user + system) per reload
	ops     []int           // lvsd only: IPVS operations applied per reload
	lines   []int           // lvsd only: lines `lvsd reload` printed
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("reloadbench", flag.ContinueOnError)
	services := fs.Int("services", 2277, "virtual services")
	dests := fs.Int("dests", 37205, "real servers in total")
	rounds := fs.Int("rounds", 3, "reloads per tool, at least 1 (medians are reported)")
	bin := fs.String("lvsd", os.Getenv("LVSD_BIN"), "lvsd binary (default $LVSD_BIN)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up waiting for one step after this long")
	tools := fs.String("tools", "lvsd,keepalived", "what to measure, comma-separated: lvsd, keepalived")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 || *services < 1 || *dests < *services {
		return errors.New("-rounds and -services must be at least 1, -dests at least -services")
	}
	doLvsd, doKeepalived := strings.Contains(*tools, "lvsd"), strings.Contains(*tools, "keepalived")
	if doLvsd && *bin == "" {
		return errors.New("no lvsd binary: set -lvsd or $LVSD_BIN")
	}
	dir, err := os.MkdirTemp("", "reloadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	k, err := lvs.OpenIPVS()
	if err != nil {
		return err
	}
	defer k.Close()
	probe, err := ipvs.New("")
	if err != nil {
		return fmt.Errorf("IPVS handle: %w", err)
	}
	defer probe.Close()
	b := &bench{table: lvs.SyntheticTable(*services, *dests), svc: *services / 2, dir: dir, kernel: k, probe: probe, timeout: *timeout}

	if err := flush(); err != nil {
		return err
	}
	var lv, ka result
	lvErr, kaErr := errors.New("not measured (-tools)"), errors.New("not measured (-tools)")
	if doLvsd {
		lv, lvErr = b.lvsd(*bin, *rounds)
		if err := flush(); err != nil {
			return err
		}
	}
	if doKeepalived {
		ka, kaErr = b.keepalived(*rounds)
		if err := flush(); err != nil {
			return err
		}
	}
	b.report(stdout, lv, ka, lvErr, kaErr)
	if doLvsd && lvErr != nil {
		return fmt.Errorf("lvsd: %w", lvErr)
	}
	return nil
}

func flush() error {
	if out, err := exec.Command("ipvsadm", "-C").CombinedOutput(); err != nil {
		return fmt.Errorf("ipvsadm -C: %v: %s", err, out)
	}
	return nil
}

// withWeight returns the table with the changed real server at weight w.
func (b *bench) withWeight(w int) lvs.Table {
	t := slices.Clone(b.table)
	s := t[b.svc]
	s.Destinations = slices.Clone(s.Destinations)
	s.Destinations[0].Weight = w
	t[b.svc] = s
	return t
}

// waitTable polls the kernel until it holds exactly t; it gives up when p (if not nil)
// exits.
func (b *bench) waitTable(t lvs.Table, who string, p *proc) error {
	end := time.Now().Add(b.timeout)
	for {
		if p != nil {
			select {
			case <-p.exited:
				return fmt.Errorf("%s exited", who)
			default:
			}
		}
		cur, err := b.kernel.Services()
		if err != nil {
			return err
		}
		d := lvs.Diff(t, cur)
		if len(d) == 0 {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: the kernel still differs from the table by %d operations after %v, first %s", who, len(d), b.timeout, d[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitWeight polls the changed service until its first real server has weight w.
func (b *bench) waitWeight(w int) error {
	s := b.table[b.svc]
	rs := s.Destinations[0]
	svc := &ipvs.Service{AddressFamily: syscall.AF_INET, Protocol: syscall.IPPROTO_TCP,
		Address: net.IP(s.Key.Addr.AsSlice()), Port: s.Key.Port}
	end := time.Now().Add(b.timeout)
	for {
		ds, err := b.probe.GetDestinations(svc)
		if err != nil {
			return fmt.Errorf("read %s: %w", s.Key, err)
		}
		for _, d := range ds {
			if d.Address.Equal(net.IP(rs.Addr.AsSlice())) && d.Port == rs.Port && d.Weight == w {
				return nil
			}
		}
		if time.Now().After(end) {
			return fmt.Errorf("weight %d of %s in %s not in the kernel after %v", w, rs.Addr, s.Key, b.timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// lvsd runs `lvsd run` with the table, then reloads rounds times with one weight toggled.
func (b *bench) lvsd(bin string, rounds int) (result, error) {
	var res result
	conf := filepath.Join(b.dir, "lvsd.hcl")
	sock := filepath.Join(b.dir, "lvsd.sock")
	if err := writeHCL(conf, sock, b.table); err != nil {
		return res, err
	}
	start := time.Now()
	// keep_ipvs_on_stop: the table is flushed by the caller.
	proc, err := b.start("lvsd", bin, "run", "--config", conf, "--socket", sock)
	if err != nil {
		return res, err
	}
	defer proc.stop(30 * time.Second)
	if err := b.waitTable(b.table, "lvsd run", proc); err != nil {
		return res, proc.withLog(err)
	}
	res.cold = time.Since(start)
	fmt.Fprintf(os.Stderr, "lvsd: whole table in the kernel %v after start\n", res.cold.Round(time.Millisecond))
	// The operations are counted from the reconciler's log ("IPVS reconcile done ... ops=N"):
	// `lvsd status` lists every real server, too much for the control socket's write
	// timeout at this size under TCG.
	d := &e2e.Lvsd{Bin: bin, Socket: sock, Config: conf}
	for r := 0; r < rounds; r++ {
		w := 2 - r%2 // 2, 1, 2, ...
		if err := writeHCL(conf, sock, b.withWeight(w)); err != nil {
			return res, err
		}
		passes0 := len(proc.reconcileOps())
		cpu0 := cpuTime(proc.cmd.Process.Pid)
		start := time.Now()
		cli, err := d.Reload()
		took := time.Since(start)
		if err != nil {
			return res, err
		}
		if cli.Code != 0 {
			return res, proc.withLog(fmt.Errorf("lvsd reload: %s", cli))
		}
		if err := b.waitWeight(w); err != nil {
			return res, err
		}
		visible := time.Since(start)
		cpu := settledCPU(proc.cmd.Process.Pid) - cpu0
		for end := time.Now().Add(b.timeout); len(proc.reconcileOps()) == passes0 && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond) // the pass logs once it is done
		}
		ops := 0
		for _, n := range proc.reconcileOps()[passes0:] {
			ops += n
		}
		res.command = append(res.command, took)
		res.visible = append(res.visible, visible)
		res.cpu = append(res.cpu, cpu)
		res.ops = append(res.ops, ops)
		res.lines = append(res.lines, len(cli.Lines()))
		fmt.Fprintf(os.Stderr, "lvsd reload %d: command %v, weight visible %v, CPU %v, %d IPVS ops, output %q\n",
			r+1, took.Round(time.Millisecond), visible.Round(time.Millisecond), cpu, ops, cli.Lines())
	}
	return res, b.waitTable(b.withWeight(2-(rounds-1)%2), "lvsd after the reloads", proc)
}

// keepalived runs keepalived's checker process with the table, then SIGHUPs it rounds
// times with one weight toggled.
func (b *bench) keepalived(rounds int) (result, error) {
	var res result
	if _, err := exec.LookPath("keepalived"); err != nil {
		return res, fmt.Errorf("keepalived is not installed: %w", err)
	}
	conf := filepath.Join(b.dir, "keepalived.conf")
	if err := writeKeepalived(conf, b.table); err != nil {
		return res, err
	}
	pidFile, checkerPidFile := filepath.Join(b.dir, "keepalived.pid"), filepath.Join(b.dir, "checkers.pid")
	start := time.Now()
	// -n foreground, -l log to stderr, -C checkers only, -R no respawn of the child.
	proc, err := b.start("keepalived", "keepalived", "-n", "-l", "-C", "-R", "-f", conf, "-p", pidFile, "-c", checkerPidFile)
	if err != nil {
		return res, err
	}
	defer proc.stop(60 * time.Second)
	if err := b.waitTable(b.table, "keepalived -C", proc); err != nil {
		return res, proc.withLog(err)
	}
	res.cold = time.Since(start)
	fmt.Fprintf(os.Stderr, "keepalived: whole table in the kernel %v after start\n", res.cold.Round(time.Millisecond))
	child, err := readPid(checkerPidFile)
	if err != nil {
		return res, proc.withLog(err)
	}
	for r := 0; r < rounds; r++ {
		w := 2 - r%2
		if err := writeKeepalived(conf, b.withWeight(w)); err != nil {
			return res, err
		}
		select {
		case <-proc.exited:
			return res, proc.withLog(errors.New("keepalived exited"))
		default:
		}
		cpu0 := cpuTime(proc.cmd.Process.Pid) + cpuTime(child)
		start := time.Now()
		if err := proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			return res, err
		}
		if err := b.waitWeight(w); err != nil {
			return res, proc.withLog(err)
		}
		visible := time.Since(start)
		if err := proc.waitLog("Reload complete", r+1, b.timeout); err != nil {
			return res, proc.withLog(err)
		}
		done := time.Since(start)
		// The checker may be replaced by a new process on reload in some versions: read
		// the pid file again.
		if c, err := readPid(checkerPidFile); err == nil {
			child = c
		}
		cpu := settledCPU(proc.cmd.Process.Pid) + settledCPU(child) - cpu0
		res.visible = append(res.visible, visible)
		res.done = append(res.done, done)
		res.cpu = append(res.cpu, cpu)
		fmt.Fprintf(os.Stderr, "keepalived reload %d: weight visible %v, reload complete %v, CPU %v\n",
			r+1, visible.Round(time.Millisecond), done.Round(time.Millisecond), cpu)
	}
	return res, b.waitTable(b.withWeight(2-(rounds-1)%2), "keepalived after the reloads", proc)
}

func readPid(path string) (int, error) {
	end := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid, nil
			}
		}
		if time.Now().After(end) {
			return 0, fmt.Errorf("pid file %s: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cpuTime is the user + system CPU time of process pid so far (0 if it is gone).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ
	return time.Duration(utime+stime) * time.Second / hz
}

// settledCPU waits until pid's CPU time stops growing (the reload's work is done, also
// what follows the kernel update) and returns it.
func settledCPU(pid int) time.Duration {
	last := cpuTime(pid)
	for i := 0; i < 100; i++ {
		time.Sleep(300 * time.Millisecond)
		now := cpuTime(pid)
		if now == last {
			return now
		}
		last = now
	}
	return last
}

// proc is a daemon under measurement, its output going to a log file.
type proc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func (b *bench) start(name, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(b.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	p := &proc{cmd: exec.Command(bin, args...), log: logf.Name(), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

// stop sends SIGTERM and kills the process if it has not exited within timeout.
func (p *proc) stop(timeout time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// reconcileOps returns the ops=N of each "IPVS reconcile done" line lvsd logged so far.
func (p *proc) reconcileOps() []int {
	b, _ := os.ReadFile(p.log)
	var out []int
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "IPVS reconcile done") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "ops="); ok {
				n, _ := strconv.Atoi(v)
				out = append(out, n)
			}
		}
	}
	return out
}

// waitLog polls the process's log until it holds n lines containing what.
func (p *proc) waitLog(what string, n int, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(p.log)
		if err != nil {
			return err
		}
		if strings.Count(string(b), what) >= n {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%q logged %d times after %v, want %d", what, strings.Count(string(b), what), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// withLog adds the last lines of the process's log to err.
func (p *proc) withLog(err error) error {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return fmt.Errorf("%w; last lines of %s:\n%s", err, filepath.Base(p.log), strings.Join(lines, "\n"))
}

// writeHCL writes t as an lvsd config: one virtual_server per service, no health checks
// (real servers are up), a reconcile_interval long enough that no periodic pass falls into
// a measurement, and the IPVS table left in place on stop (the benchmark flushes it).
func writeHCL(path, socket string, t lvs.Table) error {
	return writeFile(path, func(w *bufio.Writer) {
		fmt.Fprintf(w, "global {\n  control_socket = %q\n  reconcile_interval = 3600\n  keep_ipvs_on_stop = true\n}\n", socket)
		for _, s := range t {
			fmt.Fprintf(w, "\nvirtual_server \"%s:%d\" {\n  protocol = \"TCP\"\n  lb_algo = %q\n  lb_kind = \"DR\"\n", s.Key.Addr, s.Key.Port, s.Scheduler)
			for _, d := range s.Destinations {
				fmt.Fprintf(w, "  real_server \"%s:%d\" {\n    weight = %d\n  }\n", d.Addr, d.Port, d.Weight)
			}
			w.WriteString("}\n")
		}
	})
}

// writeKeepalived writes t as the equivalent keepalived.conf.
func writeKeepalived(path string, t lvs.Table) error {
	return writeFile(path, func(w *bufio.Writer) {
		w.WriteString("global_defs {\n  router_id reloadbench\n}\n")
		for _, s := range t {
			fmt.Fprintf(w, "\nvirtual_server %s %d {\n  lb_algo %s\n  lb_kind DR\n  protocol TCP\n", s.Key.Addr, s.Key.Port, s.Scheduler)
			for _, d := range s.Destinations {
				fmt.Fprintf(w, "  real_server %s %d {\n    weight %d\n  }\n", d.Addr, d.Port, d.Weight)
			}
			w.WriteString("}\n")
		}
	})
}

// writeFile writes the file through a temporary name and a rename, as config management
// does, so a reload never reads half a file.
func writeFile(path string, fill func(*bufio.Writer)) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func durs(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(time.Millisecond).String())
	}
	return strings.Join(s, " ")
}

func ints(xs []int) string {
	var s []string
	for _, x := range xs {
		s = append(s, strconv.Itoa(x))
	}
	return strings.Join(s, " ")
}

func (b *bench) report(w io.Writer, lv, ka result, lvErr, kaErr error) {
	dests := 0
	for _, s := range b.table {
		dests += len(s.Destinations)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	med := func(err error, ds []time.Duration) string {
		if err != nil || len(ds) == 0 {
			return "n/a"
		}
		return ms(median(ds))
	}
	all := func(err error, ds []time.Duration) string {
		if err != nil {
			return "n/a"
		}
		return durs(ds)
	}
	fmt.Fprintf(w, "reload benchmark: %d virtual services, %d real servers, one weight changed per reload, kernel %s\n",
		len(b.table), dests, kernelRelease())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tlvsd\tkeepalived -C\t")
	fmt.Fprintf(tw, "IPVS operations applied per reload\t%s\t\t\n", ints(lv.ops))
	fmt.Fprintf(tw, "lines printed by lvsd reload\t%s\t\t\n", ints(lv.lines))
	fmt.Fprintf(tw, "reload to new weight in kernel (median)\t%s\t%s\t\n", med(lvErr, lv.visible), med(kaErr, ka.visible))
	fmt.Fprintf(tw, "  each reload\t%s\t%s\t\n", all(lvErr, lv.visible), all(kaErr, ka.visible))
	fmt.Fprintf(tw, "reload done: lvsd reload returned / keepalived logged \"Reload complete\" (median)\t%s\t%s\t\n", med(lvErr, lv.command), med(kaErr, ka.done))
	fmt.Fprintf(tw, "  each reload\t%s\t%s\t\n", all(lvErr, lv.command), all(kaErr, ka.done))
	fmt.Fprintf(tw, "daemon CPU per reload (median)\t%s\t%s\t\n", med(lvErr, lv.cpu), med(kaErr, ka.cpu))
	fmt.Fprintf(tw, "cold start to full table (for scale)\t%s\t%s\t\n", med(lvErr, []time.Duration{lv.cold}), med(kaErr, []time.Duration{ka.cold}))
	tw.Flush()
	for who, err := range map[string]error{"lvsd": lvErr, "keepalived": kaErr} {
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", who, err)
		}
	}
	if lvErr == nil && kaErr == nil {
		fmt.Fprintf(w, "ratio lvsd / keepalived, reload to new weight in kernel: %.3f (< 1: lvsd faster)\n",
			float64(median(lv.visible))/float64(median(ka.visible)))
		fmt.Fprintf(w, "ratio lvsd / keepalived, reload done: %.3f\n", float64(median(lv.command))/float64(median(ka.done)))
	}
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
