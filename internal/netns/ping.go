package netns

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// Ping sends ICMP echo requests to dst from the host's namespace (once per 200 ms) until
// one is answered or timeout passes. The lab does not depend on a ping binary.
func (h *Host) Ping(dst netip.Addr, timeout time.Duration) error {
	var c *icmp.PacketConn
	if err := h.Do(func() (err error) {
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		return fmt.Errorf("ping from %s: %w", h.NS, err)
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	end := time.Now().Add(timeout)
	for seq := 1; time.Now().Before(end); seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("lvsd-lab")}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(b, &net.IPAddr{IP: net.IP(dst.AsSlice())}); err != nil {
			return fmt.Errorf("ping %v from %s: %w", dst, h.NS, err)
		}
		wait := time.Now().Add(200 * time.Millisecond)
		if wait.After(end) {
			wait = end
		}
		_ = c.SetReadDeadline(wait)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				break // deadline: send the next request
			}
			m, err := icmp.ParseMessage(1, buf[:n])
			if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
				continue
			}
			if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && from.String() == dst.String() {
				return nil
			}
		}
	}
	return fmt.Errorf("ping %v from %s: no reply within %v", dst, h.NS, timeout)
}
