// Command ipvs benchmarks lvs against ipvsadm on a real IPVS, at keepalived's largest
// published configuration size (2,277 virtual servers, 37,205 real servers):
//
//   - cold apply: lvs Reconcile from an empty table vs `ipvsadm-restore` of the same table
//     (written by lvs.WriteSave), in the same run, alternating, best of -rounds;
//   - no-op reconcile of that table over identical kernel state (time and allocations);
//   - the process's resident memory while holding the table.
//
// It flushes IPVS (ipvsadm -C): run it only in a throwaway VM, as root, e.g.
//
//	go build -o bin/ipvsbench ./internal/bench/ipvs
//	go run ./internal/vmtest/cmd/vmtest -quiet -exec "$PWD/bin/ipvsbench"
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/lvsd/lvsd/lvs"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ipvsbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ipvsbench", flag.ContinueOnError)
	services := fs.Int("services", 2277, "virtual services")
	dests := fs.Int("dests", 37205, "real servers in total")
	rounds := fs.Int("rounds", 2, "cold-apply rounds of each tool, at least 1 (best is reported)")
	noops := fs.Int("noop", 5, "no-op reconciles to time")
	backend := fs.String("backend", "batched", "IPVS backend to measure: batched (lvsd's default) or moby (github.com/moby/ipvs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 || *noops < 1 || *services < 1 || *dests < 0 {
		return fmt.Errorf("-rounds, -noop and -services must be at least 1")
	}
	var k interface {
		lvs.Kernel
		Close()
	}
	switch *backend {
	case "batched":
		b, err := lvs.OpenIPVS()
		if err != nil {
			return err
		}
		k = b
	case "moby":
		m, err := lvs.OpenMobyIPVS()
		if err != nil {
			return err
		}
		k = m
	default:
		return fmt.Errorf("-backend %q: want batched or moby", *backend)
	}
	defer k.Close()
	fmt.Fprintf(stdout, "backend: %s\n", *backend)
	ctx := context.Background()

	table := lvs.SyntheticTable(*services, *dests)
	var save bytes.Buffer
	if err := lvs.WriteSave(&save, table); err != nil {
		return err
	}
	ops := *services + *dests

	flush := func() error {
		if out, err := exec.Command("ipvsadm", "-C").CombinedOutput(); err != nil {
			return fmt.Errorf("ipvsadm -C: %v: %s", err, out)
		}
		return nil
	}
	check := func(who string) error {
		cur, err := k.Services()
		if err != nil {
			return err
		}
		if d := lvs.Diff(table, cur); len(d) != 0 {
			return fmt.Errorf("after %s the kernel differs from the table by %d ops, first %s", who, len(d), d[0])
		}
		return nil
	}

	var restoreTimes, lvsTimes []time.Duration
	for r := 0; r < *rounds; r++ {
		if err := flush(); err != nil {
			return err
		}
		cmd := exec.Command("ipvsadm-restore")
		cmd.Stdin = bytes.NewReader(save.Bytes())
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("ipvsadm-restore: %v: %s", err, out)
		}
		restoreTimes = append(restoreTimes, time.Since(start))
		if err := check("ipvsadm-restore"); err != nil {
			return err
		}

		if err := flush(); err != nil {
			return err
		}
		rec := lvs.NewReconciler(k, nil)
		start = time.Now()
		res, err := rec.Reconcile(ctx, table)
		if err != nil {
			return fmt.Errorf("cold Reconcile: %w", err)
		}
		lvsTimes = append(lvsTimes, time.Since(start))
		if len(res.Ops) != ops {
			return fmt.Errorf("cold Reconcile did %d ops, want %d", len(res.Ops), ops)
		}
		if err := check("lvs Reconcile"); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "round %d: ipvsadm-restore %v, lvs %v\n", r+1, restoreTimes[r].Round(time.Millisecond), lvsTimes[r].Round(time.Millisecond))
	}

	// No-op reconciles: the table is in the kernel, a restarted reconciler adopts it.
	rec := lvs.NewReconciler(k, nil)
	var noopTimes []time.Duration
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for i := 0; i < *noops; i++ {
		start := time.Now()
		res, err := rec.Reconcile(ctx, table)
		noopTimes = append(noopTimes, time.Since(start))
		if err != nil {
			return fmt.Errorf("no-op Reconcile: %w", err)
		}
		if len(res.Ops) != 0 {
			return fmt.Errorf("no-op Reconcile did %d ops, first %s", len(res.Ops), res.Ops[0])
		}
	}
	runtime.ReadMemStats(&ms1)
	allocs := (ms1.Mallocs - ms0.Mallocs) / uint64(*noops)
	allocBytes := (ms1.TotalAlloc - ms0.TotalAlloc) / uint64(*noops)

	// The kernel read alone (what every periodic check costs at least), with the process's
	// user and system CPU time: system is the kernel building the dumps.
	ru0 := rusage()
	start := time.Now()
	cur, err := k.Services()
	if err != nil {
		return err
	}
	readTime := time.Since(start)
	ru1 := rusage()
	readUser, readSys := ru1.user-ru0.user, ru1.sys-ru0.sys

	// /proc/net/ip_vs has the same table as text (without thresholds, scheduler flags and
	// counters): how much of the read is netlink's per-attribute cost.
	start = time.Now()
	procText, err := os.ReadFile("/proc/net/ip_vs")
	if err != nil {
		return err
	}
	procTime := time.Since(start)

	// Diff alone, the pure part of a no-op reconcile: compare with `go test -bench
	// DiffIdentical ./lvs` on the host to see how much slower this (emulated) CPU is.
	start = time.Now()
	const diffRuns = 5
	for i := 0; i < diffRuns; i++ {
		if d := lvs.Diff(table, cur); len(d) != 0 {
			return fmt.Errorf("diff of the read table: %d ops", len(d))
		}
	}
	diffTime := time.Since(start) / diffRuns

	runtime.GC()
	rss, hwm := procStatus("VmRSS"), procStatus("VmHWM")
	runtime.KeepAlive(table)

	// ipvsadm's own read of the same table, for scale.
	start = time.Now()
	if err := exec.Command("ipvsadm", "-Ln").Run(); err != nil {
		return fmt.Errorf("ipvsadm -Ln: %w", err)
	}
	ipvsadmList := time.Since(start)
	if err := flush(); err != nil {
		return err
	}

	bestRestore, bestLvs := slices.Min(restoreTimes), slices.Min(lvsTimes)
	slices.Sort(noopTimes)
	medNoop := noopTimes[len(noopTimes)/2]
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

	fmt.Fprintf(stdout, "IPVS benchmark: %d virtual services, %d real servers (%d netlink ops cold), kernel %s, GOMAXPROCS %d\n",
		*services, *dests, ops, kernelRelease(), runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measure\tvalue\tdetail\t")
	fmt.Fprintf(tw, "cold apply, ipvsadm-restore\t%s\tbest of %d: %s\t\n", ms(bestRestore), len(restoreTimes), durs(restoreTimes))
	fmt.Fprintf(tw, "cold apply, lvs Reconcile\t%s\tbest of %d: %s\t\n", ms(bestLvs), len(lvsTimes), durs(lvsTimes))
	fmt.Fprintf(tw, "ratio lvs / ipvsadm-restore\t%.2f\t(< 1: lvs faster)\t\n", float64(bestLvs)/float64(bestRestore))
	fmt.Fprintf(tw, "lvs per op\t%.1f µs\t\t\n", float64(bestLvs)/float64(time.Microsecond)/float64(ops))
	fmt.Fprintf(tw, "no-op reconcile (median)\t%s\tof %d: %s\t\n", ms(medNoop), len(noopTimes), durs(noopTimes))
	fmt.Fprintf(tw, "no-op reconcile allocations\t%d\t%.1f MiB per reconcile\t\n", allocs, float64(allocBytes)/(1<<20))
	fmt.Fprintf(tw, "kernel read (Services)\t%s\tCPU user %s, system %s\t\n", ms(readTime), ms(readUser), ms(readSys))
	fmt.Fprintf(tw, "read /proc/net/ip_vs (for scale)\t%s\t%d KiB\t\n", ms(procTime), len(procText)>>10)
	fmt.Fprintf(tw, "Diff alone (table vs read)\t%s\t\t\n", ms(diffTime))
	fmt.Fprintf(tw, "ipvsadm -Ln (for scale)\t%s\t\t\n", ms(ipvsadmList))
	fmt.Fprintf(tw, "process VmRSS holding the table\t%s\tVmHWM %s\t\n", rss, hwm)
	return tw.Flush()
}

type cpuTimes struct{ user, sys time.Duration }

func rusage() cpuTimes {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuTimes{}
	}
	return cpuTimes{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

func durs(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(time.Millisecond).String())
	}
	return strings.Join(s, " ")
}

func procStatus(field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
