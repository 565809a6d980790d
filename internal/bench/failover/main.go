// Command failover measures VRRP failover time of an lvsd pair and of a keepalived pair in
// the same run and the same namespace topology (r1 master priority 150, r2 backup priority
// 100, a client, one bridge; VRRPv2 with advert_int 1 s by default, or VRRPv3 with
// -version 3 and a sub-second -advert-int): the time from the master's death (kill -9, or
// a graceful stop with SIGTERM) until the backup holds the VIP and until it answers ARP
// for the VIP from the client namespace. It prints medians, the protocol limit and ratios.
// Needs root; creates and deletes its own namespaces only.
//
//	go run ./internal/bench/failover [-n 5] [-impl lvsd,keepalived] [-event kill,stop] [-version 2|3] [-advert-int 1] [-lvsd bin/lvsd] [-v]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/net/ipv4"

	"github.com/lvsd/lvsd/internal/e2e"
	"github.com/lvsd/lvsd/internal/netns"
)

const (
	masterPrio  = 150
	backupPrio  = 100
	waitTimeout = 15 * time.Second
)

// The protocol under test, set from the flags: VRRP version and advert_int in seconds.
var (
	version   = 2
	advertInt = 1.0
)

// interval is advert_int as a duration.
func interval() time.Duration { return time.Duration(advertInt * float64(time.Second)) }

// skew is Skew_Time of the backup: (256 - priority) / 256 s in VRRPv2 (RFC 3768 6.1),
// ((256 - priority) * Master_Adver_Interval) / 256 in VRRPv3 (RFC 5798 6.1).
func skew() time.Duration {
	if version == 3 {
		return time.Duration(256-backupPrio) * interval() / 256
	}
	return time.Duration(256-backupPrio) * time.Second / 256
}

// spec is the instance both implementations run. VRRPv3 has no authentication.
func spec(prio int, state string) e2e.Spec {
	s := e2e.Spec{Priority: prio, State: state, AdvertInt: advertInt, Version: version}
	if version == 2 {
		s.AuthPass = "1111"
	}
	return s
}

// sample is one takeover: from the master's death (the signal) to the backup holding the
// VIP and to its first ARP reply, and from the master's last advert seen on the wire to
// that ARP reply (what Master_Down_Interval / Skew_Time bound: the signal comes at a
// random point between two adverts).
type sample struct{ vip, arp, arpFromAdvert time.Duration }

type pair interface {
	// start starts master on r1 and backup on r2.
	start(tag string) error
	// fail makes the master die (kill) or stop gracefully (stop); it returns the moment
	// the signal was sent.
	fail(event string) (time.Time, error)
	// stop kills whatever runs.
	stop()
	// dump prints the processes' output (after a failure).
	dump()
}

func main() {
	n := flag.Int("n", 5, "repetitions per implementation and event")
	impls := flag.String("impl", "lvsd,keepalived", "implementations to measure, comma-separated: lvsd, keepalived")
	events := flag.String("event", "kill,stop", "events, comma-separated: kill (kill -9 of the master), stop (SIGTERM: graceful)")
	bin := flag.String("lvsd", "", "lvsd binary (default: $LVSD_BIN, else go build ./cmd/lvsd into a temp dir)")
	verbose := flag.Bool("v", false, "print every sample")
	flag.IntVar(&version, "version", 2, "VRRP version: 2 or 3")
	flag.Float64Var(&advertInt, "advert-int", 1, "advert_int in seconds (whole seconds 1-255 with -version 2, 0.01-40.95 with 3)")
	flag.Parse()
	if err := run(*n, split(*impls), split(*events), *bin, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func run(n int, impls, events []string, bin string, verbose bool) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces)")
	}
	if n < 1 {
		return errors.New("-n must be at least 1")
	}
	if version != 2 && version != 3 {
		return fmt.Errorf("-version %d: want 2 or 3", version)
	}
	for _, e := range events {
		if e != "kill" && e != "stop" {
			return fmt.Errorf("unknown event %q: want kill or stop", e)
		}
	}
	for _, i := range impls {
		if i != "lvsd" && i != "keepalived" {
			return fmt.Errorf("unknown implementation %q: want lvsd or keepalived", i)
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	dir, err := os.MkdirTemp("", "lvsd-bench-failover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if slices.Contains(impls, "lvsd") {
		if bin == "" {
			if bin, err = e2e.BuildLvsd(dir); err != nil {
				return err
			}
		}
	}
	lab, err := netns.NewLab()
	if err != nil {
		return err
	}
	defer lab.Close()
	topo, err := e2e.NewTopology(lab)
	if err != nil {
		return err
	}
	m, err := newMeter(topo)
	if err != nil {
		return err
	}
	defer m.close()

	results := map[string][]sample{}
	fmt.Printf("failover: %d repetitions, VRRPv%d, advert_int %g s, master priority %d, backup priority %d (Skew_Time %.3f s)\n",
		n, version, advertInt, masterPrio, backupPrio, skew().Seconds())
	for _, ev := range events {
		for _, impl := range impls {
			var p pair
			if impl == "lvsd" {
				p = &lvsdPair{bin: bin, topo: topo, dir: dir}
			} else {
				p = &keepalivedPair{topo: topo, dir: dir}
			}
			for rep := 0; rep < n; rep++ {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s, err := m.once(p, ev, rep)
				if err != nil && verbose {
					p.dump()
				}
				p.stop()
				m.reset()
				if err != nil {
					return fmt.Errorf("%s %s #%d: %w", impl, ev, rep+1, err)
				}
				if verbose {
					fmt.Printf("  %-10s %-4s #%d: VIP held %6.3f s, ARP answered %6.3f s after the signal, %6.3f s after the last advert\n",
						impl, ev, rep+1, s.vip.Seconds(), s.arp.Seconds(), s.arpFromAdvert.Seconds())
				}
				results[impl+"/"+ev] = append(results[impl+"/"+ev], s)
			}
		}
	}
	report(results, impls, events)
	return nil
}

func limit(event string) time.Duration {
	if event == "kill" {
		return 3*interval() + skew()
	}
	return skew()
}

func median(ss []sample, f func(sample) time.Duration) time.Duration {
	ds := make([]time.Duration, len(ss))
	for i, s := range ss {
		ds[i] = f(s)
	}
	slices.Sort(ds)
	if len(ds)%2 == 1 {
		return ds[len(ds)/2]
	}
	return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
}

func report(results map[string][]sample, impls, events []string) {
	name := map[string]string{"kill": "kill -9", "stop": "SIGTERM"}
	fmt.Printf("\nmedians; \"signal\": from kill -9 / SIGTERM of the master; \"advert\": from its last advert on the wire\n")
	fmt.Printf("%-11s %-8s %14s %14s %14s %14s %10s\n", "impl", "event", "VIP (signal)", "ARP (signal)", "ARP (advert)", "protocol limit", "ARP/limit")
	arp := map[string]time.Duration{}
	for _, ev := range events {
		for _, impl := range impls {
			ss := results[impl+"/"+ev]
			if len(ss) == 0 {
				continue
			}
			v := median(ss, func(s sample) time.Duration { return s.vip })
			a := median(ss, func(s sample) time.Duration { return s.arp })
			aa := median(ss, func(s sample) time.Duration { return s.arpFromAdvert })
			arp[impl+"/"+ev] = aa
			fmt.Printf("%-11s %-8s %12.3f s %12.3f s %12.3f s %12.3f s %10.2f\n", impl, name[ev], v.Seconds(), a.Seconds(), aa.Seconds(), limit(ev).Seconds(), aa.Seconds()/limit(ev).Seconds())
		}
	}
	for _, ev := range events {
		l, k := arp["lvsd/"+ev], arp["keepalived/"+ev]
		if l > 0 && k > 0 {
			fmt.Printf("lvsd/keepalived, ARP answered after the last advert, %s: %.2f\n", name[ev], l.Seconds()/k.Seconds())
		}
	}
}

// meter watches r2's addresses over netlink and ARPs from the client.
type meter struct {
	topo *e2e.Topology
	r2   *netlink.Handle
	arp  *netns.ARPSocket
	vip  netip.Addr
	ads  *advertWatch
}

// advertWatch records when the client last saw a VRRP advert from r1.
type advertWatch struct {
	c    net.PacketConn
	mu   sync.Mutex
	last time.Time
}

func watchAdverts(h *netns.Host, from string) (*advertWatch, error) {
	w := &advertWatch{}
	var pc *ipv4.PacketConn
	err := h.Do(func() error {
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName(h.If)
		if err != nil {
			c.Close()
			return err
		}
		pc = ipv4.NewPacketConn(c)
		if err := pc.JoinGroup(ifi, &net.IPAddr{IP: net.IPv4(224, 0, 0, 18)}); err != nil {
			c.Close()
			return err
		}
		w.c = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("advert watch in %s: %w", h.Name, err)
	}
	src := net.ParseIP(from)
	go func() {
		buf := make([]byte, 1500)
		for {
			_, _, a, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			if ip, ok := a.(*net.IPAddr); ok && ip.IP.Equal(src) {
				now := time.Now()
				w.mu.Lock()
				w.last = now
				w.mu.Unlock()
			}
		}
	}()
	return w, nil
}

func (w *advertWatch) lastAdvert() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func newMeter(topo *e2e.Topology) (*meter, error) {
	ns, err := vnetns.GetFromName(topo.R2.NS)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, err
	}
	s, err := topo.Client.OpenARP(netip.MustParseAddr(e2e.ClientIP))
	if err != nil {
		h.Close()
		return nil, err
	}
	ads, err := watchAdverts(topo.Client, e2e.R1IP)
	if err != nil {
		h.Close()
		s.Close()
		return nil, err
	}
	return &meter{topo: topo, r2: h, arp: s, vip: netip.MustParseAddr(e2e.VIP), ads: ads}, nil
}

func (m *meter) close() {
	m.r2.Close()
	m.arp.Close()
	m.ads.c.Close()
}

func (m *meter) r2HasVIP() bool {
	link, err := m.r2.LinkByName(m.topo.R2.If)
	if err != nil {
		return false
	}
	addrs, err := m.r2.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == m.vip {
			return true
		}
	}
	return false
}

// once runs one repetition: pair up, master holds the VIP, fail, time the takeover.
func (m *meter) once(p pair, event string, rep int) (sample, error) {
	if err := p.start(fmt.Sprintf("%s-%d", event, rep)); err != nil {
		return sample{}, err
	}
	if err := e2e.WaitVIP(m.topo.R1, e2e.VIP, true, waitTimeout); err != nil {
		return sample{}, err
	}
	if err := e2e.WaitVIP(m.topo.R2, e2e.VIP, false, waitTimeout); err != nil {
		return sample{}, err
	}
	// Let the backup hear adverts for a while (its Master_Down_Timer restarts on each),
	// then fail at a random point between two adverts, as a real failure would.
	time.Sleep(2*time.Second + rand.N(time.Second))
	if m.r2HasVIP() {
		return sample{}, errors.New("the backup took the VIP before the master failed")
	}
	t0, err := p.fail(event)
	if err != nil {
		return sample{}, err
	}
	var s sample
	for {
		if m.r2HasVIP() {
			s.vip = time.Since(t0)
			break
		}
		if time.Since(t0) > waitTimeout {
			return sample{}, errors.New("the backup never held the VIP")
		}
		time.Sleep(5 * time.Millisecond)
	}
	at, err := e2e.ARPFrom(m.arp, e2e.VIP, m.topo.R2.MAC, waitTimeout)
	if err != nil {
		return sample{}, err
	}
	s.arp = at.Sub(t0)
	last := m.ads.lastAdvert()
	if last.IsZero() || last.Before(t0.Add(-2*time.Second)) {
		return sample{}, errors.New("the client saw no advert from the master before it failed")
	}
	s.arpFromAdvert = at.Sub(last)
	return s, nil
}

// reset removes the VIP wherever a killed master left it.
func (m *meter) reset() {
	for _, h := range []*netns.Host{m.topo.R1, m.topo.R2} {
		_, _ = h.IP("addr", "del", e2e.VIP+"/32", "dev", h.If)
	}
}

type lvsdPair struct {
	bin            string
	topo           *e2e.Topology
	dir            string
	master, backup *e2e.Lvsd
}

func (p *lvsdPair) start(tag string) error {
	var err error
	d := filepath.Join(p.dir, "lvsd-"+tag)
	if p.backup, err = e2e.StartLvsd(p.bin, p.topo.R2, d+"-r2", spec(backupPrio, "BACKUP")); err != nil {
		return err
	}
	if p.master, err = e2e.StartLvsd(p.bin, p.topo.R1, d+"-r1", spec(masterPrio, "MASTER")); err != nil {
		return err
	}
	return nil
}

func (p *lvsdPair) fail(event string) (time.Time, error) {
	sig := syscall.SIGKILL
	if event == "stop" {
		sig = syscall.SIGTERM
	}
	t0 := time.Now()
	return t0, p.master.Proc.Signal(sig)
}

func (p *lvsdPair) dump() {
	for _, d := range []*e2e.Lvsd{p.master, p.backup} {
		if d != nil {
			fmt.Fprintf(os.Stderr, "--- lvsd on %s:\n%s\n", d.Host.Name, d.Proc.Output())
		}
	}
}

func (p *lvsdPair) stop() {
	for _, d := range []*e2e.Lvsd{p.master, p.backup} {
		if d != nil {
			d.Proc.Kill()
		}
	}
	p.master, p.backup = nil, nil
}

type keepalivedPair struct {
	topo           *e2e.Topology
	dir            string
	master, backup *e2e.Keepalived
}

func (p *keepalivedPair) start(tag string) error {
	var err error
	d := filepath.Join(p.dir, "ka-"+tag)
	if p.backup, err = e2e.StartKeepalived(p.topo.R2, d+"-r2", spec(backupPrio, "BACKUP")); err != nil {
		return err
	}
	if p.master, err = e2e.StartKeepalived(p.topo.R1, d+"-r1", spec(masterPrio, "MASTER")); err != nil {
		return err
	}
	return nil
}

func (p *keepalivedPair) fail(event string) (time.Time, error) {
	if event == "stop" {
		t0 := time.Now()
		return t0, p.master.Proc.Signal(syscall.SIGTERM)
	}
	pid, err := p.master.VRRPPID()
	if err != nil {
		return time.Time{}, err
	}
	t0 := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return t0, err
	}
	p.master.Proc.Kill()
	return t0, nil
}

func (p *keepalivedPair) dump() {
	for _, k := range []*e2e.Keepalived{p.master, p.backup} {
		if k != nil {
			fmt.Fprintf(os.Stderr, "--- keepalived on %s:\n%s\n", k.Host.Name, k.Log())
		}
	}
}

func (p *keepalivedPair) stop() {
	for _, k := range []*e2e.Keepalived{p.master, p.backup} {
		if k != nil {
			k.Cleanup()
		}
	}
	p.master, p.backup = nil, nil
}
