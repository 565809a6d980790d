package lvs

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// genlConn is a generic netlink socket talking to the IPVS family.
type genlConn struct {
	fd     int
	family uint16
	seq    uint32
	batch  int // requests per sendmsg, so that their acks fit in the receive buffer
	// destHint is how many destinations the last read found: the next one sizes its
	// array by it.
	destHint int
	rbuf     []byte
	m        msg
}

const (
	recvBufSize = 1 << 20 // user buffer for one datagram (dump parts are at most 32 KiB)
	sockRcvBuf  = 8 << 20 // socket receive buffer asked for, room for a batch's acks
)

func dialGenl() (*genlConn, error) {
	fam, err := netlink.GenlFamilyGet("IPVS")
	if err != nil {
		return nil, fmt.Errorf("%w (generic netlink family IPVS not found: %v)", ErrNoIPVS, err)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	// The sequence starts just below the wrap, so that every run goes across it.
	c := &genlConn{fd: fd, family: fam.ID, rbuf: make([]byte, recvBufSize), seq: ^uint32(0) - 100}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		c.close()
		return nil, fmt.Errorf("bind netlink socket: %w", err)
	}
	// Root may exceed rmem_max; otherwise take what is allowed and batch accordingly.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sockRcvBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, sockRcvBuf)
	}
	// Acks of failed requests carry only the header, not the whole request back.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	tv := unix.NsecToTimeval((10 * time.Second).Nanoseconds())
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	rcv, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		rcv = 212992
	}
	// An ack costs about 1 KiB of receive buffer (skb overhead); keep half free.
	c.batch = max(8, min(1024, rcv/2048))
	return c, nil
}

func (c *genlConn) close() {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

func (c *genlConn) send(b []byte) error {
	for {
		err := unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

func (c *genlConn) recv() ([]byte, error) {
	for {
		n, _, err := unix.Recvfrom(c.fd, c.rbuf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if err == unix.EAGAIN {
				return nil, errors.New("netlink: no answer from the kernel within 10 s")
			}
			return nil, err
		}
		return c.rbuf[:n], nil
	}
}

// exec sends ops in batches and returns one error slot per op.
func (c *genlConn) exec(ops []Op) []error {
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(ops))
		}
		errs[i] = err
	}
	for base := 0; base < len(ops); base += c.batch {
		n := min(c.batch, len(ops)-base)
		first := c.seq + 1
		c.m.b = c.m.b[:0]
		for i := 0; i < n; i++ {
			c.seq++
			if err := c.m.appendOp(c.family, c.seq, &ops[base+i]); err != nil {
				// Keep the sequence dense: send a harmless no-op in its place.
				fail(base+i, err)
				c.m.appendGetServicesAck(c.family, c.seq)
			}
		}
		if err := c.send(c.m.b); err != nil {
			for i := 0; i < n; i++ {
				fail(base+i, fmt.Errorf("netlink send: %w", err))
			}
			continue
		}
		pending := n
		for pending > 0 {
			b, err := c.recv()
			if err != nil {
				for i := 0; i < n; i++ {
					if errs == nil || errs[base+i] == nil {
						fail(base+i, fmt.Errorf("netlink receive: %w", err))
					}
				}
				return errs
			}
			for len(b) > 0 {
				m, rest, err := nextMessage(b)
				if err != nil {
					break
				}
				b = rest
				idx := m.Seq - first // unsigned: also right across a sequence wrap
				if idx >= uint32(n) {
					continue // a late answer to an earlier request
				}
				if m.Type != nlmsgError {
					continue // the reply to a stand-in request: its ack follows
				}
				pending--
				if code, err := errnoOf(m.Data); err != nil {
					fail(base+int(idx), err)
				} else if code != 0 {
					if errs == nil || errs[base+int(idx)] == nil {
						fail(base+int(idx), syscall.Errno(code))
					}
				}
			}
		}
	}
	return errs
}

// appendGetServicesAck is a harmless request (a non-dump GET_SERVICE without a service,
// which the kernel refuses) used to keep a batch's sequence numbers dense.
func (m *msg) appendGetServicesAck(family uint16, seq uint32) {
	m.end(m.begin(family, nlmFRequest|nlmFAck, seq, cmdGetService))
}

// dump sends one dump request (already in c.m.b) and calls fn for each reply message.
func (c *genlConn) dump(fn func(data []byte) error) error {
	seq := c.seq
	if err := c.send(c.m.b); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	var ferr error
	for {
		b, err := c.recv()
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		for len(b) > 0 {
			m, rest, err := nextMessage(b)
			if err != nil {
				return err
			}
			b = rest
			if m.Seq != seq {
				continue
			}
			switch m.Type {
			case nlmsgDone:
				return ferr
			case nlmsgError:
				code, err := errnoOf(m.Data)
				if err != nil {
					return err
				}
				if code != 0 {
					return syscall.Errno(code)
				}
				return ferr
			default:
				if ferr == nil {
					ferr = fn(m.Data)
				}
			}
		}
	}
}

// servicesOf reads the services of keys that exist, with their destinations: one dump of
// the services (without destinations, it is cheap) and one of each wanted service's
// destinations.
func (c *genlConn) servicesOf(keys []Key) (Table, error) {
	want := make(map[Key]bool, len(keys))
	for _, k := range keys {
		want[k.Normalize()] = true
	}
	c.seq++
	c.m.b = c.m.b[:0]
	c.m.appendGetServices(c.family, c.seq)
	var out Table
	err := c.dump(func(data []byte) error {
		s, err := decodeService(data)
		if err != nil {
			return fmt.Errorf("decode IPVS service: %w", err)
		}
		if want[s.Key.Normalize()] {
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list IPVS services: %w", err)
	}
	hint := c.destHint
	err = c.readDests(out)
	c.destHint = hint // sized for the whole table, not for a few services
	if err != nil {
		return nil, err
	}
	j := 0
	for i := range out {
		if out[i].Key != (Key{}) {
			out[j] = out[i]
			j++
		}
	}
	return out[:j], nil
}

// services reads every service and its destinations; helper, if not nil, is a second
// socket that reads half of the destinations in parallel (the per-dump system call and
// buffer work overlaps on two CPUs; the kernel serializes only the filling).
func (c *genlConn) services(helper *genlConn) (Table, error) {
	c.seq++
	c.m.b = c.m.b[:0]
	c.m.appendGetServices(c.family, c.seq)
	var out Table
	err := c.dump(func(data []byte) error {
		s, err := decodeService(data)
		if err != nil {
			return fmt.Errorf("decode IPVS service: %w", err)
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list IPVS services: %w", err)
	}
	if helper != nil && len(out) >= 64 {
		half := len(out) / 2
		herr := make(chan error, 1)
		go func() { herr <- helper.readDests(out[half:]) }()
		err = c.readDests(out[:half])
		if err2 := <-herr; err == nil {
			err = err2
		}
	} else {
		err = c.readDests(out)
	}
	if err != nil {
		return nil, err
	}
	// Drop services that vanished while reading.
	j := 0
	for i := range out {
		if out[i].Key != (Key{}) {
			out[j] = out[i]
			j++
		}
	}
	return out[:j], nil
}

// readDests reads the destinations of svcs. A service deleted meanwhile gets a zero Key.
func (c *genlConn) readDests(svcs []Service) error {
	// All destinations share one backing array: one allocation (amortized) instead of
	// one per service.
	all := make([]Destination, 0, c.destHint+c.destHint/8)
	ends := make([]int, len(svcs))
	for i := range svcs {
		s := &svcs[i]
		c.seq++
		c.m.b = c.m.b[:0]
		c.m.appendGetDests(c.family, c.seq, s)
		err := c.dump(func(data []byte) error {
			d, err := decodeDest(data, s.Family)
			if err != nil {
				return fmt.Errorf("decode IPVS real server: %w", err)
			}
			all = append(all, d)
			return nil
		})
		ends[i] = len(all)
		if err == syscall.ESRCH {
			// Deleted between the two dumps: as if read a moment later.
			s.Key = Key{}
			continue
		}
		if err != nil {
			return fmt.Errorf("list real servers of %s: %w", s.Key, err)
		}
	}
	c.destHint = len(all)
	begin := 0
	for i := range svcs {
		if ends[i] > begin {
			svcs[i].Destinations = all[begin:ends[i]:ends[i]]
		}
		begin = ends[i]
	}
	return nil
}

// IPVS is the real Kernel: the IPVS generic netlink family of the network namespace the
// calling thread was in at OpenIPVS. Operations are sent in batches (many requests per
// sendmsg, one ack each), reads parse dumps in place. Calls are serialized.
type IPVS struct {
	mu     sync.Mutex
	c      *genlConn
	helper *genlConn // second socket for parallel reads; nil if it could not be opened
}

var (
	_ Kernel        = (*IPVS)(nil)
	_ ServiceReader = (*IPVS)(nil)
)

// OpenIPVS checks that the kernel has IPVS (see CheckAvailable) and opens a netlink socket.
func OpenIPVS() (*IPVS, error) {
	if err := CheckAvailable(); err != nil {
		return nil, err
	}
	c, err := dialGenl()
	if err != nil {
		return nil, err
	}
	k := &IPVS{c: c}
	if h, err := dialGenl(); err == nil {
		k.helper = h
	}
	return k, nil
}

// Close releases the socket.
func (k *IPVS) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil {
		k.c.close()
		k.c = nil
	}
	if k.helper != nil {
		k.helper.close()
		k.helper = nil
	}
}

// Services reads every service with its destinations and counters.
func (k *IPVS) Services() (Table, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c == nil {
		return nil, os.ErrClosed
	}
	return k.c.services(k.helper)
}

// ServicesOf reads the services of keys that exist, with their destinations and counters.
func (k *IPVS) ServicesOf(keys []Key) (Table, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c == nil {
		return nil, os.ErrClosed
	}
	return k.c.servicesOf(keys)
}

// Apply performs ops in order; errs[i] is the result of ops[i] (nil: all succeeded).
func (k *IPVS) Apply(ops []Op) []error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c == nil {
		errs := make([]error, len(ops))
		for i := range errs {
			errs[i] = os.ErrClosed
		}
		return errs
	}
	return k.c.exec(ops)
}
