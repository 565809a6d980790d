//go:build vmtest

package lvs

// In-VM tests against a real IPVS (Debian's stock kernel under qemu, see internal/vmtest):
// run as root after `modprobe ip_vs` and the schedulers, with ipvsadm on the PATH. Each
// test starts from an empty IPVS table; the VM is thrown away afterwards.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

func vmKernel(t *testing.T) *IPVS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (IPVS netlink)")
	}
	k, err := OpenIPVS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	ipvsadm(t, "-C")
	t.Cleanup(func() { exec.Command("ipvsadm", "-C").Run() })
	return k
}

func ipvsadm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ipvsadm", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ipvsadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func kernelTable(t *testing.T, k Kernel) Table {
	t.Helper()
	tb, err := k.Services()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func listText(t *testing.T, tb Table, o ListOptions) string {
	t.Helper()
	var b strings.Builder
	if err := WriteList(&b, tb, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func saveText(t *testing.T, tb Table) string {
	t.Helper()
	var b strings.Builder
	if err := WriteSave(&b, tb); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustReconcile(t *testing.T, r *Reconciler, desired Table) []string {
	t.Helper()
	res, err := r.Reconcile(context.Background(), desired)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return opStrings(res.Ops)
}

func assertInSync(t *testing.T, k Kernel, desired Table) {
	t.Helper()
	if ops := Diff(desired, kernelTable(t, k)); len(ops) != 0 {
		t.Fatalf("kernel differs from the desired table after Reconcile: %q", opStrings(ops))
	}
}

var (
	a     = netip.MustParseAddr
	vmWeb = func(w2, w3 int) Service {
		return Service{Key: AddrKey(TCP, a("10.0.0.1"), 80), Scheduler: "rr", Destinations: []Destination{
			{Addr: a("10.0.0.2"), Port: 80, Weight: w2, Forward: DR},
			{Addr: a("10.0.0.3"), Port: 80, Weight: w3, Forward: DR},
		}}
	}
	vmDNS = Service{Key: AddrKey(UDP, a("10.0.0.1"), 53), Scheduler: "wlc", Persistence: 300, NetmaskBits: 24,
		Destinations: []Destination{{Addr: a("10.0.1.9"), Port: 5353, Weight: 1, Forward: NAT}}}
	vmMark = Service{Key: FWMarkKey(IPv4, 3), Scheduler: "wrr",
		Destinations: []Destination{{Addr: a("10.0.0.2"), Weight: 2, Forward: TUN}}}
	vmV6 = Service{Key: AddrKey(TCP, a("2001:db8::1"), 443), Scheduler: "sh", Flags: FlagSched1 | FlagSched2,
		Persistence: 60, NetmaskBits: 64,
		Destinations: []Destination{{Addr: a("2001:db8::2"), Port: 443, Weight: 1, Forward: DR, UpperThreshold: 100, LowerThreshold: 10}}}
	vmSCTP = Service{Key: AddrKey(SCTP, a("10.0.0.1"), 9), Scheduler: "lc"}
)

func TestVMAddEditDelete(t *testing.T) {
	k := vmKernel(t)
	r := NewReconciler(k, nil)
	desired := Table{vmWeb(1, 1), vmDNS, vmMark, vmV6, vmSCTP}
	if ops := mustReconcile(t, r, desired); len(ops) != 10 {
		t.Errorf("cold apply: %d ops, want 10 (5 services, 5 real servers): %q", len(ops), ops)
	}
	assertInSync(t, k, desired)

	// Every editable setting changes in place.
	dns, v6, mark := vmDNS, vmV6, vmMark
	dns.Scheduler, dns.Persistence, dns.NetmaskBits = "lc", 900, 16
	dns.Destinations = []Destination{{Addr: a("10.0.1.9"), Port: 5353, Weight: 4, Forward: NAT, UpperThreshold: 50}}
	v6.Flags, v6.NetmaskBits = FlagSched2, 48
	mark.Destinations = []Destination{{Addr: a("10.0.0.2"), Weight: 2, Forward: DR}}
	desired = Table{vmWeb(1, 5), dns, mark, v6, vmSCTP}
	want := []string{
		"edit real server 10.0.0.1:80 TCP -> 10.0.0.3:80: weight 1 -> 5",
		"edit service 10.0.0.1:53 UDP: scheduler wlc -> lc, persistence 300 -> 900, netmask /24 -> /16",
		"edit real server 10.0.0.1:53 UDP -> 10.0.1.9:5353: weight 1 -> 4, upper threshold 0 -> 50",
		"edit real server fwmark 3 -> 10.0.0.2:0: forward TUN -> DR",
		"edit service [2001:db8::1]:443 TCP: flags 0x18 -> 0x10, netmask /64 -> /48",
	}
	if got := mustReconcile(t, r, desired); !reflect.DeepEqual(got, want) {
		t.Errorf("edits:\n got %q\nwant %q", got, want)
	}
	assertInSync(t, k, desired)

	// Remove a real server and a whole service.
	web := vmWeb(1, 5)
	web.Destinations = web.Destinations[:1]
	desired = Table{web, dns, mark, v6}
	want = []string{"delete service 10.0.0.1:9 SCTP", "delete real server 10.0.0.1:80 TCP -> 10.0.0.3:80"}
	if got := mustReconcile(t, r, desired); !reflect.DeepEqual(got, want) {
		t.Errorf("deletes:\n got %q\nwant %q", got, want)
	}
	assertInSync(t, k, desired)

	// What ipvsadm shows is what WriteList prints of what lvs reads.
	if got, want := listText(t, kernelTable(t, k), ListOptions{}), ipvsadm(t, "-Ln"); got != want {
		t.Errorf("WriteList differs from ipvsadm -Ln:\n--- lvs\n%s--- ipvsadm\n%s", got, want)
	}
	if got := ipvsadm(t, "-Ln"); !strings.Contains(got, "  -> 10.0.0.2:0                   Route   2      0          0         \n") {
		t.Errorf("fwmark real server not edited to DR:\n%s", got)
	}
}

func TestVMNetmaskAndFlagsAsIpvsadmShows(t *testing.T) {
	k := vmKernel(t)
	r := NewReconciler(k, nil)
	desired := Table{
		{Key: AddrKey(TCP, a("10.0.0.1"), 80), Scheduler: "sh", Flags: FlagSched1 | FlagSched2, Persistence: 300, NetmaskBits: 24},
		{Key: AddrKey(UDP, a("10.0.0.1"), 53), Scheduler: "rr", Flags: FlagOnePacket},
		{Key: FWMarkKey(IPv6, 7), Scheduler: "mh", Flags: FlagSched1, Persistence: 30, NetmaskBits: 64},
		{Key: AddrKey(TCP, a("10.0.0.1"), 81), Scheduler: "wrr", Persistence: 10},
	}
	mustReconcile(t, r, desired)
	got := ipvsadm(t, "-Ln")
	for _, line := range []string{
		"TCP  10.0.0.1:80 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0\n",
		"TCP  10.0.0.1:81 wrr persistent 10\n",
		"UDP  10.0.0.1:53 rr ops\n",
		"FWM  7 IPv6 mh (mh-fallback) persistent 30 mask 64\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("ipvsadm -Ln lacks %q:\n%s", line, got)
		}
	}
	if l := listText(t, kernelTable(t, k), ListOptions{}); l != got {
		t.Errorf("WriteList differs from ipvsadm -Ln:\n--- lvs\n%s--- ipvsadm\n%s", l, got)
	}
	assertInSync(t, k, desired)
}

// A restart (new Reconciler, e.g. after kill -9) over matching IPVS state changes nothing.
func TestVMAdoption(t *testing.T) {
	k := vmKernel(t)
	desired := Table{vmWeb(1, 2), vmDNS, vmMark, vmV6}
	mustReconcile(t, NewReconciler(k, nil), desired)
	restarted := NewReconciler(k, nil)
	if ops := mustReconcile(t, restarted, desired); len(ops) != 0 {
		t.Fatalf("restart over identical state: %q", ops)
	}
	// The same when the state was made by ipvsadm-restore rather than by lvs.
	ipvsadm(t, "-C")
	restore(t, saveText(t, desired))
	if ops := mustReconcile(t, NewReconciler(k, nil), desired); len(ops) != 0 {
		t.Fatalf("adopting ipvsadm-restore'd state: %q", ops)
	}
}

func TestVMForeignServiceLeftAlone(t *testing.T) {
	k := vmKernel(t)
	ipvsadm(t, "-A", "-t", "192.0.2.1:80", "-s", "lc")
	ipvsadm(t, "-a", "-t", "192.0.2.1:80", "-r", "192.0.2.2:80", "-g", "-w", "7")
	before := ipvsadm(t, "-Ln", "-t", "192.0.2.1:80")
	r := NewReconciler(k, nil)
	mustReconcile(t, r, Table{vmWeb(1, 1), vmDNS})
	mustReconcile(t, r, Table{vmWeb(1, 1)}) // vmDNS was ours: deleted
	if got := ipvsadm(t, "-Ln", "-t", "192.0.2.1:80"); got != before {
		t.Errorf("foreign service changed:\n%s\nwas\n%s", got, before)
	}
	if _, err := r.RemoveOwned(context.Background()); err != nil {
		t.Fatal(err)
	}
	tb := kernelTable(t, k)
	if len(tb) != 1 || tb[0].Key != AddrKey(TCP, a("192.0.2.1"), 80) {
		t.Fatalf("after RemoveOwned: %+v", tb)
	}
}

func TestVMDriftRepaired(t *testing.T) {
	k := vmKernel(t)
	r := NewReconciler(k, nil)
	desired := Table{vmWeb(1, 1), vmDNS}
	mustReconcile(t, r, desired)
	for _, tc := range []struct {
		name string
		args [][]string
		want []string
	}{
		{"ipvsadm -C", [][]string{{"-C"}}, []string{
			"add service 10.0.0.1:80 TCP scheduler rr",
			"add real server 10.0.0.1:80 TCP -> 10.0.0.2:80 DR weight 1",
			"add real server 10.0.0.1:80 TCP -> 10.0.0.3:80 DR weight 1",
			"add service 10.0.0.1:53 UDP scheduler wlc persistent 300 netmask /24",
			"add real server 10.0.0.1:53 UDP -> 10.0.1.9:5353 NAT weight 1",
		}},
		{"deleted real server", [][]string{{"-d", "-t", "10.0.0.1:80", "-r", "10.0.0.3:80"}}, []string{
			"add real server 10.0.0.1:80 TCP -> 10.0.0.3:80 DR weight 1",
		}},
		{"changed weight and scheduler", [][]string{
			{"-e", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80", "-g", "-w", "9"},
			{"-E", "-u", "10.0.0.1:53", "-s", "rr", "-p", "300", "-M", "255.255.255.0"},
		}, []string{
			"edit real server 10.0.0.1:80 TCP -> 10.0.0.2:80: weight 9 -> 1",
			"edit service 10.0.0.1:53 UDP: scheduler rr -> wlc",
		}},
		{"foreign real server in an owned service", [][]string{{"-a", "-t", "10.0.0.1:80", "-r", "10.0.0.4:80", "-g"}}, []string{
			"delete real server 10.0.0.1:80 TCP -> 10.0.0.4:80",
		}},
	} {
		for _, a := range tc.args {
			ipvsadm(t, a...)
		}
		if got := mustReconcile(t, r, desired); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: repair\n got %q\nwant %q", tc.name, got, tc.want)
		}
		assertInSync(t, k, desired)
	}

	// And Run does it by itself on its interval.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan Table, 1)
	updates <- desired
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, updates, 100*time.Millisecond) }()
	time.Sleep(300 * time.Millisecond)
	ipvsadm(t, "-C")
	deadline := time.Now().Add(10 * time.Second)
	for len(Diff(desired, kernelTable(t, k))) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not repair ipvsadm -C within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
}

func restore(t *testing.T, save string) {
	t.Helper()
	cmd := exec.Command("ipvsadm-restore")
	cmd.Stdin = strings.NewReader(save)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ipvsadm-restore: %v\n%s\ninput:\n%s", err, out, save)
	}
}

// WriteSave output fed to ipvsadm-restore gives the same `ipvsadm -Ln` as the state it was
// saved from, and WriteList/WriteSave print exactly what ipvsadm prints.
func TestVMSaveRestoreRoundTrip(t *testing.T) {
	k := vmKernel(t)
	r := NewReconciler(k, nil)
	v6 := vmV6
	v6.Destinations = []Destination{{Addr: a("2001:db8::2"), Port: 443, Weight: 1, Forward: DR}} // ipvsadm-save drops thresholds
	mustReconcile(t, r, Table{vmWeb(1, 3), vmDNS, vmMark, v6, vmSCTP,
		{Key: FWMarkKey(IPv6, 9), Scheduler: "rr", Destinations: []Destination{{Addr: a("2001:db8::5"), Weight: 1, Forward: NAT}}}})
	cur := kernelTable(t, k)
	list := ipvsadm(t, "-Ln")
	if got := listText(t, cur, ListOptions{}); got != list {
		t.Errorf("WriteList differs from ipvsadm -Ln:\n--- lvs\n%s--- ipvsadm\n%s", got, list)
	}
	save := saveText(t, cur)
	out, err := exec.Command("ipvsadm-save", "-n").Output()
	if err != nil {
		t.Fatal(err)
	}
	if save != string(out) {
		t.Errorf("WriteSave differs from ipvsadm-save -n:\n--- lvs\n%s--- ipvsadm-save\n%s", save, out)
	}
	for _, o := range []struct {
		opts ListOptions
		flag string
	}{{ListOptions{Stats: true}, "--stats"}, {ListOptions{Rate: true}, "--rate"}} {
		if got, want := listText(t, kernelTable(t, k), o.opts), ipvsadm(t, "-Ln", o.flag); got != want {
			t.Errorf("WriteList %s differs:\n--- lvs\n%s--- ipvsadm\n%s", o.flag, got, want)
		}
	}
	// The one-call helpers behind `lvsd ipvs list|save`.
	var lb, sb strings.Builder
	if err := List(&lb, ListOptions{}); err != nil || lb.String() != list {
		t.Errorf("List: %v\n%s", err, lb.String())
	}
	if err := Save(&sb); err != nil || sb.String() != string(out) {
		t.Errorf("Save: %v\n%s", err, sb.String())
	}
	ipvsadm(t, "-C")
	restore(t, save)
	if got := ipvsadm(t, "-Ln"); got != list {
		t.Errorf("after ipvsadm-restore of WriteSave:\n%s\nwant\n%s", got, list)
	}
}

// realServerNS makes a network namespace with a TCP echo server at 10.99.0.2:80, reached
// over a veth pair from the VM's root namespace (10.99.0.1), with the root namespace as
// its gateway so that LVS-NAT replies come back through IPVS.
func realServerNS(t *testing.T) {
	t.Helper()
	for _, c := range [][]string{
		{"netns", "add", "lvsrs"},
		{"link", "add", "lvsv0", "type", "veth", "peer", "name", "lvsv1"},
		{"link", "set", "lvsv1", "netns", "lvsrs"},
		{"addr", "add", "10.99.0.1/24", "dev", "lvsv0"},
		{"link", "set", "lvsv0", "up"},
		{"-n", "lvsrs", "addr", "add", "10.99.0.2/24", "dev", "lvsv1"},
		{"-n", "lvsrs", "link", "set", "lvsv1", "up"},
		{"-n", "lvsrs", "link", "set", "lo", "up"},
		{"-n", "lvsrs", "route", "add", "default", "via", "10.99.0.1"},
		{"addr", "add", "10.98.0.1/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", "lvsv0").Run()
		exec.Command("ip", "netns", "del", "lvsrs").Run()
		exec.Command("ip", "addr", "del", "10.98.0.1/32", "dev", "lo").Run()
	})
	ln := listenInNS(t, "lvsrs", "10.99.0.2:80")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
}

func listenInNS(t *testing.T, ns, addr string) net.Listener {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res)
	go func() {
		// This thread enters the namespace and is never reused: the goroutine exits
		// still locked, so the runtime discards the thread.
		runtime.LockOSThread()
		h, err := netns.GetFromName(ns)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			ch <- res{nil, err}
			return
		}
		ln, err := net.Listen("tcp4", addr)
		ch <- res{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, ns, r.err)
	}
	return r.ln
}

// An edit stays an edit: a live connection through IPVS keeps working and stays counted
// in ActiveConn across a weight change done by Reconcile.
func TestVMEditKeepsActiveConnection(t *testing.T) {
	k := vmKernel(t)
	realServerNS(t)
	svc := Service{Key: AddrKey(TCP, a("10.98.0.1"), 80), Scheduler: "rr",
		Destinations: []Destination{{Addr: a("10.99.0.2"), Port: 80, Weight: 1, Forward: NAT}}}
	r := NewReconciler(k, nil)
	mustReconcile(t, r, Table{svc})

	c, err := net.DialTimeout("tcp4", "10.98.0.1:80", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd := bufio.NewReader(c)
	echo := func(msg string) {
		t.Helper()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintln(c, msg); err != nil {
			t.Fatal(err)
		}
		line, err := rd.ReadString('\n')
		if err != nil || line != msg+"\n" {
			t.Fatalf("echo %q: got %q, %v", msg, line, err)
		}
	}
	echo("before")
	active := func() uint32 {
		return kernelTable(t, k)[0].Destinations[0].ActiveConns
	}
	if n := active(); n != 1 {
		t.Fatalf("ActiveConn before edit = %d, want 1", n)
	}
	svc.Destinations[0].Weight = 3
	if ops := mustReconcile(t, r, Table{svc}); !reflect.DeepEqual(ops, []string{"edit real server 10.98.0.1:80 TCP -> 10.99.0.2:80: weight 1 -> 3"}) {
		t.Fatalf("ops %q", ops)
	}
	if n := active(); n != 1 {
		t.Errorf("ActiveConn after edit = %d, want 1", n)
	}
	echo("after")
	// The kernel folds its per-CPU counters into what it reports every 2 s (estimator).
	deadline := time.Now().Add(6 * time.Second)
	for {
		d := kernelTable(t, k)[0].Destinations[0]
		if d.Weight == 3 && d.Stats.Conns == 1 && d.Stats.InPkts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after edit: weight %d, conns %d, inpkts %d", d.Weight, d.Stats.Conns, d.Stats.InPkts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A restart (kill -9, new process, new Reconciler) adopts the state: no op, and the
	// connection lives on.
	if ops := mustReconcile(t, NewReconciler(k, nil), Table{svc}); len(ops) != 0 {
		t.Fatalf("restart changed IPVS: %q", ops)
	}
	echo("after restart")
	if n := active(); n != 1 {
		t.Errorf("ActiveConn after restart = %d, want 1", n)
	}
	// Counters as ipvsadm prints them (no traffic while both read).
	if got, want := listText(t, kernelTable(t, k), ListOptions{Stats: true}), ipvsadm(t, "-Ln", "--stats"); got != want {
		t.Errorf("WriteList --stats differs:\n--- lvs\n%s--- ipvsadm\n%s", got, want)
	}
}

// The batched netlink codec and moby/ipvs read the same kernel state identically, and a
// table written by either is read back the same by the other.
func TestVMCodecMatchesMoby(t *testing.T) {
	k := vmKernel(t)
	mk, err := OpenMobyIPVS()
	if err != nil {
		t.Fatal(err)
	}
	defer mk.Close()
	desired := Table{vmWeb(1, 2), vmDNS, vmMark, vmV6, vmSCTP,
		{Key: FWMarkKey(IPv6, 9), Scheduler: "rr", Destinations: []Destination{{Addr: a("2001:db8::5"), Weight: 3, Forward: NAT}}}}
	strip := func(tb Table) Table {
		tb = sortedServices(tb)
		for i := range tb {
			tb[i].Stats = Stats{}
			tb[i].Destinations = sortedDests(tb[i].Destinations)
			for j := range tb[i].Destinations {
				tb[i].Destinations[j].Stats = Stats{}
			}
		}
		return tb
	}
	for _, writer := range []struct {
		name string
		k    Kernel
	}{{"batched netlink", k}, {"moby/ipvs", mk}} {
		ipvsadm(t, "-C")
		mustReconcile(t, NewReconciler(writer.k, nil), desired)
		ours, theirs := strip(kernelTable(t, k)), strip(kernelTable(t, mk))
		if !reflect.DeepEqual(ours, theirs) {
			t.Errorf("written by %s, read differently:\n ours   %+v\n moby   %+v", writer.name, ours, theirs)
		}
		if ops := Diff(desired, theirs); len(ops) != 0 {
			t.Errorf("written by %s, moby/ipvs reads a difference: %q", writer.name, opStrings(ops))
		}
	}
}

// Enough services for the parallel read (two sockets), checked against ipvsadm.
func TestVMLargerTable(t *testing.T) {
	k := vmKernel(t)
	desired := SyntheticTable(150, 1200)
	r := NewReconciler(k, nil)
	if ops := mustReconcile(t, r, desired); len(ops) != 1350 {
		t.Fatalf("cold apply: %d ops, want 1350", len(ops))
	}
	assertInSync(t, k, desired)
	if got, want := listText(t, kernelTable(t, k), ListOptions{}), ipvsadm(t, "-Ln"); got != want {
		t.Errorf("WriteList differs from ipvsadm -Ln (%d vs %d bytes)", len(got), len(want))
	}
	if ops := mustReconcile(t, r, desired); len(ops) != 0 {
		t.Fatalf("no-op reconcile: %d ops", len(ops))
	}
}

// A refused operation in the middle of a batch fails alone, with the kernel's errno, and
// the rest of the batch is applied.
func TestVMFailedOpInBatch(t *testing.T) {
	k := vmKernel(t)
	r := NewReconciler(k, nil)
	bad := Service{Key: AddrKey(TCP, a("10.0.0.1"), 8080), Scheduler: "nosuch",
		Destinations: []Destination{{Addr: a("10.0.0.2"), Port: 8080, Weight: 1, Forward: DR}}}
	desired := Table{vmWeb(1, 1), bad, vmDNS}
	res, err := r.Reconcile(context.Background(), desired)
	if err == nil || !strings.Contains(err.Error(), "add service 10.0.0.1:8080 TCP scheduler nosuch: ") {
		t.Fatalf("want the refused add in the error, got %v", err)
	}
	if res.Failed != 2 {
		t.Errorf("failed ops = %d, want 2 (the add and its real server)", res.Failed)
	}
	if !errors.Is(err, syscall.ENOENT) { // the kernel's answer to an unknown scheduler
		t.Errorf("error does not carry ENOENT: %v", err)
	}
	assertInSync(t, k, Table{vmWeb(1, 1), vmDNS})
}

// TestVMServicesOf: reading some services returns exactly those that exist, with their
// destinations, and ReconcileChanges edits one weight with one operation.
func TestVMServicesOf(t *testing.T) {
	k := vmKernel(t)
	r := NewReconciler(k, nil)
	desired := Table{vmWeb(1, 1), vmDNS}
	mustReconcile(t, r, desired)
	absent := AddrKey(TCP, netip.MustParseAddr("10.9.9.9"), 80)
	got, err := k.ServicesOf([]Key{vmDNS.Key, absent})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != vmDNS.Key.Normalize() || len(got[0].Destinations) != len(vmDNS.Destinations) {
		t.Fatalf("ServicesOf(dns, absent) = %+v", got)
	}
	next := Table{vmWeb(1, 5), vmDNS}
	res, err := r.ReconcileChanges(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"edit real server 10.0.0.1:80 TCP -> 10.0.0.3:80: weight 1 -> 5"}
	if got := opStrings(res.Ops); !reflect.DeepEqual(got, want) {
		t.Fatalf("ReconcileChanges: %q, want %q", got, want)
	}
	assertInSync(t, k, next)
}
