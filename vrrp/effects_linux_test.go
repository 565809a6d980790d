package vrrp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/net/ipv4"

	"github.com/lvsd/lvsd/internal/netns"
)

// These tests exercise the Linux effects against the real kernel, in namespaces of a lab
// (internal/netns) plugged into one bridge: 10.78.0.1 (a), .2 (b), .3 (c).

func effectsLab(t *testing.T, hosts ...string) []*netns.Host {
	t.Helper()
	netns.RequireRoot(t, testing.Short())
	l := netns.New(t)
	l.IfName = l.Prefix // unique: an effect in the wrong namespace finds no such link
	var hs []*netns.Host
	for i, name := range hosts {
		hs = append(hs, l.MustAddHost(t, name, "10.78.0."+string(rune('1'+i))+"/24"))
	}
	return hs
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func openConn(t *testing.T, h *netns.Host, src netip.Addr, peers ...netip.Addr) Conn {
	t.Helper()
	var c Conn
	if err := h.Do(func() (err error) { c, err = NewConn(h.If, src, peers); return err }); err != nil {
		t.Fatalf("NewConn in %s: %v", h.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recvAsync runs Recv in the background; the result arrives on the channel.
func recvAsync(c Conn) <-chan recvResult {
	ch := make(chan recvResult, 16)
	go func() {
		for {
			p, err := c.Recv()
			ch <- recvResult{p, err}
			if err != nil {
				close(ch)
				return
			}
		}
	}()
	return ch
}

type recvResult struct {
	p   Packet
	err error
}

func wantPacket(t *testing.T, ch <-chan recvResult, what string) Packet {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: Recv: %v", what, r.err)
		}
		return r.p
	case <-time.After(3 * time.Second):
		t.Fatalf("%s: nothing received in 3s", what)
	}
	return Packet{}
}

func TestConnMulticast(t *testing.T) {
	hs := effectsLab(t, "a", "b")
	a, b := hs[0], hs[1]
	ca := openConn(t, a, netip.Addr{})
	cb := openConn(t, b, netip.Addr{})

	// A second raw socket in b shows the whole IP header (TOS, TTL as sent).
	var hdrConn *ipv4.RawConn
	if err := b.Do(func() error {
		pc, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		hdrConn, err = ipv4.NewRawConn(pc)
		if err != nil {
			return err
		}
		return hdrConn.JoinGroup(mustIface(t, b), &net.IPAddr{IP: net.IPv4(224, 0, 0, 18)})
	}); err != nil {
		t.Fatal(err)
	}
	defer hdrConn.Close()

	inA, inB := recvAsync(ca), recvAsync(cb)
	payload := []byte{0x21, 51, 100, 1, 0, 1, 0xaa, 0xbb, 10, 78, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0}
	if err := ca.Send(payload, MulticastGroup); err != nil {
		t.Fatal(err)
	}
	p := wantPacket(t, inB, "b from a")
	if p.Src != ip("10.78.0.1") || p.Dst != MulticastGroup || p.TTL != 255 || !bytes.Equal(p.Payload, payload) {
		t.Fatalf("b received %+v, want src 10.78.0.1 dst 224.0.0.18 TTL 255 payload % x", p, payload)
	}

	hdrConn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	h, pl, _, err := hdrConn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("raw header read: %v", err)
	}
	if h.TOS != 0xc0 || h.TTL != 255 || h.Protocol != 112 || !bytes.Equal(pl, payload) {
		t.Fatalf("IP header %v, want TOS 0xc0 TTL 255 protocol 112 and the payload", h)
	}

	// Multicast loopback is off: a never sees its own advert. Close then unblocks Recv.
	time.Sleep(300 * time.Millisecond)
	ca.Close()
	select {
	case r := <-inA:
		if r.err == nil {
			t.Fatalf("sender received its own advert: %+v", r.p)
		}
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Recv after Close: %v, want net.ErrClosed", r.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not unblock Recv")
	}
}

func mustIface(t *testing.T, h *netns.Host) *net.Interface {
	ifi, err := net.InterfaceByName(h.If)
	if err != nil {
		t.Errorf("interface %s: %v", h.If, err)
	}
	return ifi
}

func TestConnUnicast(t *testing.T) {
	hs := effectsLab(t, "a", "b", "c")
	a, b, c := hs[0], hs[1], hs[2]
	ca := openConn(t, a, ip("10.78.0.1"), ip("10.78.0.2"))
	cb := openConn(t, b, ip("10.78.0.2"), ip("10.78.0.1"))
	cc := openConn(t, c, ip("10.78.0.3"), ip("10.78.0.2"))
	cm := openConn(t, c, netip.Addr{}) // a multicast speaker on the same segment
	inB := recvAsync(cb)

	// A send to the group goes to each unicast peer instead.
	if err := ca.Send([]byte("from-a"), MulticastGroup); err != nil {
		t.Fatal(err)
	}
	p := wantPacket(t, inB, "b from peer a")
	if p.Src != ip("10.78.0.1") || p.Dst != ip("10.78.0.2") || p.TTL != 255 || string(p.Payload) != "from-a" {
		t.Fatalf("b received %+v", p)
	}
	// Multicast adverts do not reach a unicast instance (it joined no group)...
	if err := cm.Send([]byte("multicast"), MulticastGroup); err != nil {
		t.Fatal(err)
	}
	// ...and an advert from a non-peer arrives with its true source, for the state
	// machine to count and drop.
	if err := cc.Send([]byte("from-c"), MulticastGroup); err != nil {
		t.Fatal(err)
	}
	p = wantPacket(t, inB, "b from non-peer c")
	if p.Src != ip("10.78.0.3") || string(p.Payload) != "from-c" {
		t.Fatalf("b received %+v, want the non-peer advert from 10.78.0.3 (the multicast one must not arrive)", p)
	}
	select {
	case r := <-inB:
		t.Fatalf("unexpected packet %+v (%v)", r.p, r.err)
	case <-time.After(300 * time.Millisecond):
	}

	if err := a.Do(func() error {
		_, err := NewConn(a.If, netip.Addr{}, []netip.Addr{ip("10.78.0.1")})
		if err == nil || !strings.Contains(err.Error(), "unicast_src_ip") {
			return fmt.Errorf("unicast peers without a source address: %v, want an error", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestAddresses(t *testing.T) {
	a := effectsLab(t, "a")[0]
	vip := VIP{Prefix: netip.MustParsePrefix("10.78.0.100/32"), Dev: a.If, Label: a.If + ":0"}
	// Created in a's namespace, used from any thread: it stays bound to a's namespace.
	var addrs Addresses
	if err := a.Do(func() error { addrs = NewAddresses(); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := addrs.Add(vip); err != nil {
			t.Errorf("Add #%d: %v", i+1, err)
		}
	}
	err := a.Do(func() error {
		if got := listLabels(t, a.If); got["10.78.0.100/32"] != vip.Label {
			t.Errorf("after Add: addresses %v, want 10.78.0.100/32 labelled %s", got, vip.Label)
		}
		if p, err := PrimaryIPv4(a.If); err != nil || p != ip("10.78.0.1") {
			t.Errorf("PrimaryIPv4 with a VIP present = %v, %v; want 10.78.0.1", p, err)
		}
		for i := 0; i < 2; i++ {
			if err := addrs.Remove(vip); err != nil {
				t.Errorf("Remove #%d: %v", i+1, err)
			}
		}
		if got := listLabels(t, a.If); len(got) != 1 {
			t.Errorf("after Remove: addresses %v, want only the primary", got)
		}
		err := addrs.Add(VIP{Prefix: vip.Prefix, Dev: "nosuch0"})
		if err == nil || !strings.Contains(err.Error(), "10.78.0.100/32") || !strings.Contains(err.Error(), "nosuch0") {
			t.Errorf("Add on a missing device: %v, want an error naming address and device", err)
		}
		if err := addrs.Remove(VIP{Prefix: vip.Prefix, Dev: "nosuch0"}); err != nil {
			t.Errorf("Remove on a missing device: %v, want nil (nothing to remove)", err)
		}
		if _, err := PrimaryIPv4("lo"); err == nil {
			t.Errorf("PrimaryIPv4(lo): want an error, lo has only a host-scope address")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func listLabels(t *testing.T, dev string) map[string]string {
	t.Helper()
	link, err := netlink.LinkByName(dev)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, a := range addrs {
		m[a.IPNet.String()] = a.Label
	}
	return m
}

func TestAnnouncer(t *testing.T) {
	hs := effectsLab(t, "a", "b")
	a, b := hs[0], hs[1]
	reader, err := b.OpenARP(ip("10.78.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	vip := ip("10.78.0.100")
	// Created in a's namespace, used from any thread: it stays bound to a's namespace.
	var ann Announcer
	if err := a.Do(func() error { ann = NewAnnouncer(); return nil }); err != nil {
		t.Fatal(err)
	}
	defer ann.(interface{ Close() error }).Close()
	for i := 0; i < 2; i++ { // the second call reuses the cached socket
		if err := ann.GratuitousARP(a.If, vip); err != nil {
			t.Fatal(err)
		}
	}
	if err := ann.GratuitousARP("nosuch0", vip); err == nil || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("GARP on a missing device: %v", err)
	}
	for i := 0; i < 2; i++ {
		p, err := reader.Read(time.Now().Add(3 * time.Second))
		if err != nil {
			t.Fatalf("GARP #%d not seen in b: %v", i+1, err)
		}
		if p.Op != 1 || p.SenderIP != vip || p.TargetIP != vip || p.SenderMAC.String() != a.MAC ||
			p.EthSrc.String() != a.MAC || p.EthDst.String() != "ff:ff:ff:ff:ff:ff" || p.TargetMAC.String() != "00:00:00:00:00:00" {
			t.Fatalf("GARP #%d = %+v, want request sender=target=%v from %s to broadcast", i+1, p, vip, a.MAC)
		}
	}
}

func TestLinkWatcher(t *testing.T) {
	a := effectsLab(t, "a")[0]
	if err := a.AddVethPair("trk0", "trk0p"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ch <-chan LinkEvent
	if err := a.Do(func() (err error) {
		ch, err = NewLinkWatcher().Watch(ctx, []string{a.If, "trk0", "nosuch0"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := func(name string, up bool) {
		t.Helper()
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed, want %s up=%v", name, up)
			}
			if ev != (LinkEvent{name, up}) {
				t.Fatalf("event %+v, want %s up=%v", ev, name, up)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no event, want %s up=%v", name, up)
		}
	}
	// Current state first, in the order asked; a missing link is down.
	want(a.If, true)
	want("trk0", true)
	want("nosuch0", false)

	step := func(what string, f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("trk0 down", func() error { return a.SetLink("trk0", false) })
	want("trk0", false)
	step("trk0 up", func() error { return a.SetLink("trk0", true) })
	want("trk0", true)
	// A veth whose other end goes down loses carrier: down, as a NIC without cable.
	step("switch port down", func() error { return a.SetPort(false) })
	want(a.If, false)
	step("switch port up", func() error { return a.SetPort(true) })
	want(a.If, true)
	step("eth0 down", func() error { return a.SetLink(a.If, false) })
	want(a.If, false)
	step("eth0 up", func() error { return a.SetLink(a.If, true) })
	want(a.If, true)
	step("trk0 deleted", func() error { _, err := a.IP("link", "del", "trk0"); return err })
	want("trk0", false)

	cancel()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("event %+v after cancel, want the channel closed", ev)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("channel not closed within 2s of cancel")
	}
}

// TestLinkWatcherResubscribes: when the netlink subscription ends on its own (e.g. ENOBUFS
// after a notification storm), Watch subscribes again, re-reads the current state and
// goes on reporting changes.
func TestLinkWatcherResubscribes(t *testing.T) {
	a := effectsLab(t, "a")[0]
	if err := a.AddVethPair("trk0", "trk0p"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewLinkWatcher().(*netlinkLinks)
	calls := 0
	broken := make(chan netlink.LinkUpdate)
	w.subscribe = func(ctx context.Context, ns vnetns.NsHandle) (chan netlink.LinkUpdate, error) {
		calls++
		if calls == 1 {
			return broken, nil // closed below, as a failed subscription is
		}
		return subscribeLinks(ctx, ns)
	}
	var ch <-chan LinkEvent
	if err := a.Do(func() (err error) { ch, err = w.Watch(ctx, []string{"trk0"}); return err }); err != nil {
		t.Fatal(err)
	}
	next := func() LinkEvent {
		t.Helper()
		select {
		case ev := <-ch:
			return ev
		case <-time.After(3 * time.Second):
			t.Fatal("no event within 3s")
		}
		return LinkEvent{}
	}
	if ev := next(); ev != (LinkEvent{"trk0", true}) {
		t.Fatalf("first event %+v", ev)
	}
	// The link changes while the subscription is broken: the refresh after
	// resubscribing reports it.
	if err := a.SetLink("trk0", false); err != nil {
		t.Fatal(err)
	}
	close(broken)
	if ev := next(); ev != (LinkEvent{"trk0", false}) {
		t.Fatalf("after resubscribing: %+v, want trk0 down", ev)
	}
	if err := a.SetLink("trk0", true); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev != (LinkEvent{"trk0", true}) {
		t.Fatalf("change after resubscribing: %+v, want trk0 up", ev)
	}
	if calls != 2 {
		t.Fatalf("subscribe called %d times, want 2", calls)
	}
}
