package vrrp

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/internal/netns"
)

// linkLocal turns IPv6 on in h and waits until its interface has a link-local address
// that is not tentative.
func linkLocal(t *testing.T, h *netns.Host) netip.Addr {
	t.Helper()
	if err := h.EnableIPv6(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ll netip.Addr
		var tentative bool
		err := h.Do(func() error {
			a, err := LinkLocalIPv6(h.If)
			if err != nil {
				return err
			}
			ll = a
			link, err := netlink.LinkByName(h.If)
			if err != nil {
				return err
			}
			addrs, err := netlink.AddrList(link, netlink.FAMILY_V6)
			for _, x := range addrs {
				if x.IP.Equal(net.IP(a.AsSlice())) && x.Flags&unix.IFA_F_TENTATIVE != 0 {
					tentative = true
				}
			}
			return err
		})
		if err == nil && !tentative {
			return ll
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no usable link-local address: %v", h.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func openConn6(t *testing.T, h *netns.Host, src netip.Addr, peers ...netip.Addr) Conn {
	t.Helper()
	var c Conn
	if err := h.Do(func() (err error) { c, err = NewConn6(h.If, src, peers); return err }); err != nil {
		t.Fatalf("NewConn6 in %s: %v", h.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConn6MulticastAndUnicast(t *testing.T) {
	hs := effectsLab(t, "a", "b")
	a, b := hs[0], hs[1]
	lla, llb := linkLocal(t, a), linkLocal(t, b)
	ca := openConn6(t, a, lla)
	cb := openConn6(t, b, llb)
	inB := recvAsync(cb)

	adv := Advert{Version: Version3, VRID: 7, Priority: 100, MaxAdvertInt: 10,
		Addrs: []netip.Addr{ip("2001:db8::100")}}
	payload, err := adv.Marshal(lla, MulticastGroup6)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel fills in the checksum (IPV6_CHECKSUM): send it zeroed.
	zeroed := bytes.Clone(payload)
	zeroed[6], zeroed[7] = 0, 0
	if err := ca.Send(zeroed, MulticastGroup6); err != nil {
		t.Fatal(err)
	}
	p := wantPacket(t, inB, "b from a")
	if p.Src != lla || p.Dst != MulticastGroup6 || p.TTL != 255 || !bytes.Equal(p.Payload, payload) {
		t.Fatalf("b received %+v, want src %v dst ff02::12 hop limit 255 payload % x", p, lla, payload)
	}
	if _, err := Parse(p.Payload, p.Src, p.Dst); err != nil {
		t.Fatalf("received advert does not parse: %v", err)
	}

	// Unicast mode: a send to the group goes to the peer, to its link-local address.
	cu := openConn6(t, a, lla, llb)
	uni, _ := adv.Marshal(lla, llb)
	if err := cu.Send(uni, MulticastGroup6); err != nil {
		t.Fatal(err)
	}
	p = wantPacket(t, inB, "b from a, unicast")
	if p.Src != lla || p.Dst != llb || p.TTL != 255 {
		t.Fatalf("unicast: b received %+v", p)
	}
	if _, err := Parse(p.Payload, p.Src, p.Dst); err != nil {
		t.Fatalf("unicast advert does not parse: %v", err)
	}
}

func TestUnsolicitedNAAndNodad(t *testing.T) {
	hs := effectsLab(t, "a", "b")
	a, b := hs[0], hs[1]
	vip := ip("2001:db8::100")
	for _, h := range hs {
		linkLocal(t, h)
	}

	// b reads IPv6 frames on its interface.
	var fd int
	if err := b.Do(func() (err error) {
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_IPV6)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}

	var ann Announcer
	var addrs Addresses
	if err := a.Do(func() error { ann = NewAnnouncer(); addrs = NewAddresses(); return nil }); err != nil {
		t.Fatal(err)
	}
	defer ann.(interface{ Close() error }).Close()
	v := VIP{Prefix: netip.PrefixFrom(vip, 64), Dev: a.If}
	if err := addrs.Add(v); err != nil {
		t.Fatal(err)
	}
	// nodad: the VIP is usable at once, never tentative; deprecated: never a source address
	// of new connections.
	out, err := a.IP("-6", "addr", "show", "dev", a.If)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains([]byte(out), []byte("2001:db8::100/64")) || !bytes.Contains([]byte(out), []byte("nodad")) ||
		bytes.Contains([]byte(out), []byte("tentative")) || !bytes.Contains([]byte(out), []byte("deprecated")) ||
		!bytes.Contains([]byte(out), []byte("valid_lft forever")) {
		t.Fatalf("VIP not added with nodad:\n%s", out)
	}
	if err := ann.UnsolicitedNA(a.If, vip); err != nil {
		t.Fatal(err)
	}
	mac, _ := net.ParseMAC(a.MAC)
	want, _ := NAFrame(mac, vip)
	buf := make([]byte, 2048)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			continue
		}
		// Frames on AF_PACKET SOCK_RAW include the Ethernet header.
		if bytes.Equal(buf[:n], want) {
			if err := addrs.Remove(v); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("b saw no unsolicited neighbour advertisement for the VIP from a")
}
