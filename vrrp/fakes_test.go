package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// In-memory effects for runner tests: a shared "wire" that carries adverts between
// Instances, and recording fakes of Addresses, Announcer and Notifier.

var (
	_ Conn      = (*wireConn)(nil)
	_ Addresses = (*fakeAddrs)(nil)
	_ Announcer = (*fakeAnnouncer)(nil)
	_ Notifier  = (*fakeNotifier)(nil)
)

// wire is a segment: multicast reaches every other end, unicast the end with that address.
type wire struct {
	clock Clock
	mu    sync.Mutex
	ends  []*wireConn
}

type wireConn struct {
	w         *wire
	src       netip.Addr
	in        chan Packet
	closeOnce sync.Once
	closed    chan struct{}

	// guarded by w.mu
	cut       bool  // unplugged: nothing in or out
	delivered int64 // packets put into in
	sent      []sentAdvert
	sendErr   error
}

type sentAdvert struct {
	at  time.Time
	dst netip.Addr
	adv Advert
}

func newWire(c Clock) *wire { return &wire{clock: c} }

func (w *wire) newConn(src netip.Addr) *wireConn {
	c := &wireConn{w: w, src: src, in: make(chan Packet, 1024), closed: make(chan struct{})}
	w.mu.Lock()
	w.ends = append(w.ends, c)
	w.mu.Unlock()
	return c
}

// inject delivers a packet to c as if it came from the wire.
func (c *wireConn) inject(p Packet) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	c.deliverLocked(p)
}

func (c *wireConn) deliverLocked(p Packet) {
	select {
	case <-c.closed:
		return
	default:
	}
	c.delivered++
	c.in <- p
}

func (c *wireConn) Send(payload []byte, dst netip.Addr) error {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	if c.sendErr != nil {
		return c.sendErr
	}
	adv, err := Parse(payload, c.src, dst)
	if err != nil {
		return fmt.Errorf("fake wire: runner sent a bad advert: %w", err)
	}
	c.sent = append(c.sent, sentAdvert{at: w.clock.Now(), dst: dst, adv: adv})
	if c.cut {
		return nil
	}
	for _, e := range w.ends {
		if e == c || e.cut || (dst != MulticastGroup && dst != MulticastGroup6 && dst != e.src) {
			continue
		}
		e.deliverLocked(Packet{Src: c.src, Dst: dst, TTL: 255, Payload: append([]byte(nil), payload...)})
	}
	return nil
}

func (c *wireConn) Recv() (Packet, error) {
	select {
	case p := <-c.in:
		return p, nil
	case <-c.closed:
		return Packet{}, net.ErrClosed
	}
}

func (c *wireConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *wireConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *wireConn) setCut(cut bool) {
	c.w.mu.Lock()
	c.cut = cut
	c.w.mu.Unlock()
}

func (c *wireConn) setSendErr(err error) {
	c.w.mu.Lock()
	c.sendErr = err
	c.w.mu.Unlock()
}

func (c *wireConn) deliveredCount() int64 {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.delivered
}

func (c *wireConn) sentAdverts() []sentAdvert {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return append([]sentAdvert(nil), c.sent...)
}

// fakeAddrs records address changes with their fake time.
type fakeAddrs struct {
	clock  Clock
	mu     sync.Mutex
	have   map[string]bool // "prefix dev"
	ops    []addrOp
	addErr error
}

type addrOp struct {
	at  time.Time
	add bool
	vip VIP
}

func newFakeAddrs(c Clock) *fakeAddrs { return &fakeAddrs{clock: c, have: map[string]bool{}} }

func (f *fakeAddrs) Add(v VIP) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addErr != nil {
		return f.addErr
	}
	f.have[v.Prefix.String()+" "+v.Dev] = true
	f.ops = append(f.ops, addrOp{f.clock.Now(), true, v})
	return nil
}

func (f *fakeAddrs) Remove(v VIP) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.have, v.Prefix.String()+" "+v.Dev)
	f.ops = append(f.ops, addrOp{f.clock.Now(), false, v})
	return nil
}

func (f *fakeAddrs) holds(prefixDev string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.have[prefixDev]
}

func (f *fakeAddrs) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.have)
}

// lastAdd is the fake time of the latest Add.
func (f *fakeAddrs) lastAdd() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.ops) - 1; i >= 0; i-- {
		if f.ops[i].add {
			return f.ops[i].at, true
		}
	}
	return time.Time{}, false
}

type fakeAnnouncer struct {
	mu   sync.Mutex
	garp map[string]int // "dev ip" -> count, ARPs and neighbour advertisements
	na   int            // how many of them were neighbour advertisements
	err  error
}

func (f *fakeAnnouncer) UnsolicitedNA(dev string, ip netip.Addr) error {
	if err := f.GratuitousARP(dev, ip); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.na++
	return nil
}

func (f *fakeAnnouncer) GratuitousARP(dev string, ip netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.garp == nil {
		f.garp = map[string]int{}
	}
	f.garp[dev+" "+ip.String()]++
	return nil
}

func (f *fakeAnnouncer) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.garp {
		n += c
	}
	return n
}

func (f *fakeAnnouncer) countFor(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.garp[key]
}

type fakeNotifier struct {
	mu     sync.Mutex
	states []State
	block  chan struct{} // when set, Notify waits for it to be closed
}

func (f *fakeNotifier) Notify(_ string, s State, _ uint8) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	f.states = append(f.states, s)
	f.mu.Unlock()
}

// count is the number of Notify calls that returned.
func (f *fakeNotifier) count() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.states))
}

func (f *fakeNotifier) got() []State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]State(nil), f.states...)
}

var errFake = errors.New("fake failure")
