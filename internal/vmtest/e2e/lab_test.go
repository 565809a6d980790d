//go:build vmtest

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// lab is one test's namespaces: every name starts with a prefix unique to the run, bridges
// live in a dedicated switch namespace, and Cleanup deletes exactly those namespaces (their
// links and addresses go with them). Nothing is created in the caller's namespace. Links
// and addresses are made over netlink rather than by exec'ing ip(8): under TCG each exec
// costs about half a second.
type lab struct {
	t      *testing.T
	prefix string
	sw     string
	nl     map[string]*netlink.Handle
	ipvsH  map[string]*ipvs.Handle
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end IPVS test: skipped when testing.Short() (-short)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (and a kernel with IPVS): run in the VM via go run ./internal/vmtest/cmd/vmtest -suite e2e")
	}
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, prefix: "vt" + hex.EncodeToString(b[:]), nl: map[string]*netlink.Handle{}, ipvsH: map[string]*ipvs.Handle{}}
	l.sw = l.ns("sw")
	return l
}

// ns creates namespace prefix-short (as /run/netns/NAME, so ip netns exec works too) with
// lo up and returns its name.
func (l *lab) ns(short string) string {
	l.t.Helper()
	name := l.prefix + "-" + short
	if err := newNamedNS(name); err != nil {
		l.t.Fatalf("create netns %s: %v", name, err)
	}
	l.t.Cleanup(func() {
		if h := l.nl[name]; h != nil {
			h.Close()
		}
		if err := netns.DeleteNamed(name); err != nil {
			l.t.Logf("delete netns %s: %v", name, err)
		}
	})
	h, err := netlink.NewHandleAt(l.handle(name))
	if err != nil {
		l.t.Fatalf("netlink in %s: %v", name, err)
	}
	l.nl[name] = h
	l.linkUp(name, "lo")
	return name
}

// newNamedNS creates a named namespace from a locked thread and switches the thread back.
func newNamedNS(name string) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err == nil {
		h.Close()
	}
	if serr := netns.Set(orig); serr != nil {
		return fmt.Errorf("switch back to the original netns: %w", serr) // thread stays locked: discarded
	}
	runtime.UnlockOSThread()
	return err
}

// handle opens ns; the handle is closed by Cleanup.
func (l *lab) handle(ns string) netns.NsHandle {
	l.t.Helper()
	h, err := netns.GetFromName(ns)
	if err != nil {
		l.t.Fatalf("open netns %s: %v", ns, err)
	}
	l.t.Cleanup(func() { h.Close() })
	return h
}

func (l *lab) link(ns, name string) netlink.Link {
	l.t.Helper()
	lk, err := l.nl[ns].LinkByName(name)
	if err != nil {
		l.t.Fatalf("netns %s: link %s: %v", ns, name, err)
	}
	return lk
}

func (l *lab) linkUp(ns, name string) {
	l.t.Helper()
	if err := l.nl[ns].LinkSetUp(l.link(ns, name)); err != nil {
		l.t.Fatalf("netns %s: set %s up: %v", ns, name, err)
	}
}

// addr adds cidr to dev in ns, with an optional label ("eth0:0", as ifconfig aliases do).
func (l *lab) addr(ns, dev, cidr, label string) {
	l.t.Helper()
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		l.t.Fatal(err)
	}
	a.Label = label
	if a.IP.To4() == nil {
		a.Flags = unix.IFA_F_NODAD // usable at once: no duplicate address detection
	}
	if err := l.nl[ns].AddrAdd(l.link(ns, dev), a); err != nil {
		l.t.Fatalf("netns %s: add %s to %s: %v", ns, cidr, dev, err)
	}
}

// defaultRoute sets ns's default gateway.
func (l *lab) defaultRoute(ns, gw string) {
	l.t.Helper()
	if err := l.nl[ns].RouteAdd(&netlink.Route{Gw: net.ParseIP(gw)}); err != nil {
		l.t.Fatalf("netns %s: default via %s: %v", ns, gw, err)
	}
}

// bridge creates a bridge in the switch namespace (STP off: ports forward at once).
func (l *lab) bridge(name string) {
	l.t.Helper()
	if err := l.nl[l.sw].LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		l.t.Fatalf("add bridge %s: %v", name, err)
	}
	l.linkUp(l.sw, name)
}

// plug gives ns an interface ifname with address cidr, wired to bridge br in the switch.
func (l *lab) plug(ns, ifname, br, cidr string) {
	l.t.Helper()
	peer := strings.TrimPrefix(ns, l.prefix+"-") + "-" + ifname
	if len(peer) > 15 {
		peer = peer[:15]
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: peer},
		PeerName:      ifname,
		PeerNamespace: netlink.NsFd(l.handle(ns)),
	}
	if err := l.nl[l.sw].LinkAdd(veth); err != nil {
		l.t.Fatalf("add veth %s (switch) <-> %s (%s): %v", peer, ifname, ns, err)
	}
	if err := l.nl[l.sw].LinkSetMaster(l.link(l.sw, peer), l.link(l.sw, br)); err != nil {
		l.t.Fatalf("plug %s into %s: %v", peer, br, err)
	}
	l.linkUp(l.sw, peer)
	l.addr(ns, ifname, cidr, "")
	l.linkUp(ns, ifname)
}

// sysctl sets net.* keys inside ns (by writing /proc/sys from a thread in ns).
func (l *lab) sysctl(ns string, kv ...string) {
	l.t.Helper()
	err := inNS(ns, func() error {
		for i := 0; i+1 < len(kv); i += 2 {
			p := "/proc/sys/" + strings.ReplaceAll(kv[i], ".", "/")
			if err := os.WriteFile(p, []byte(kv[i+1]), 0o644); err != nil {
				return fmt.Errorf("sysctl %s=%s: %w", kv[i], kv[i+1], err)
			}
		}
		return nil
	})
	if err != nil {
		l.t.Fatalf("netns %s: %v", ns, err)
	}
}

// must runs a command and fails the test with its output if it fails.
func (l *lab) must(name string, args ...string) string {
	l.t.Helper()
	out, err := run(name, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// in runs a command inside ns (ip netns exec) and fails the test if it fails.
func (l *lab) in(ns string, name string, args ...string) string {
	l.t.Helper()
	return l.must("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

func run(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// inNS runs fn on an OS thread switched into netns name; sockets made in fn stay in that
// namespace after fn returns. If the thread cannot be switched back it stays locked, so the
// runtime discards it rather than reuse it in the wrong namespace.
func inNS(name string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open own netns: %w", err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open netns %s: %w", name, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("leave netns %s: %w", name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// listen opens a TCP listener inside ns ("0.0.0.0:80" listens on IPv4 only, "[::]:80"
// on both).
func (l *lab) listen(ns, addr string) net.Listener {
	l.t.Helper()
	var ln net.Listener
	err := inNS(ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		l.t.Fatalf("listen %s in %s: %v", addr, ns, err)
	}
	l.t.Cleanup(func() { ln.Close() })
	return ln
}

// httpServer answers every request on addr inside ns with "name\n".
func (l *lab) httpServer(ns, addr, name string) {
	l.t.Helper()
	ln := l.listen(ns, addr)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, name)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln) // stopped by Close in Cleanup
	l.t.Cleanup(func() { srv.Close() })
}

// echoServer answers each line received on addr inside ns with "name: line".
func (l *lab) echoServer(ns, addr, name string) {
	l.t.Helper()
	ln := l.listen(ns, addr)
	go func() { // ends when the listener is closed in Cleanup
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if _, err := fmt.Fprintf(c, "%s: %s\n", name, sc.Text()); err != nil {
						return
					}
				}
			}()
		}
	}()
}

// echoConn is one long-lived TCP connection to an echoServer.
type echoConn struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

// dialEcho connects from ns to addr; Cleanup closes the connection.
func (l *lab) dialEcho(ns, addr string) *echoConn {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := dial(ctx, ns, "tcp4", addr)
	if err != nil {
		l.t.Fatalf("connect to %s from %s: %v", addr, ns, err)
	}
	l.t.Cleanup(func() { c.Close() })
	return &echoConn{t: l.t, c: c, rd: bufio.NewReader(c)}
}

// say sends msg as one line and returns the reply line, trimmed; it fails the test if the
// connection does not carry both within 10 s.
func (e *echoConn) say(msg string) string {
	e.t.Helper()
	e.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintln(e.c, msg); err != nil {
		e.t.Fatalf("send %q: %v", msg, err)
	}
	line, err := e.rd.ReadString('\n')
	if err != nil {
		e.t.Fatalf("reply to %q: %v", msg, err)
	}
	return strings.TrimSpace(line)
}

// dial opens a TCP connection from inside ns.
func dial(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNS(ns, func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// client returns an HTTP client whose connections start in ns, one connection per request
// (so that every request is scheduled by IPVS afresh).
func client(ns string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return dial(ctx, ns, network, addr)
			},
		},
	}
}

// get fetches url and returns the trimmed body.
func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: read body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// getN makes n requests and returns the answers in order; it fails the test on any error.
func getN(t *testing.T, c *http.Client, url string, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s, err := get(c, url)
		if err != nil {
			t.Fatalf("request %d of %d: %v (answers so far %v)", i+1, n, err, out)
		}
		out = append(out, s)
	}
	return out
}

func count(answers []string) map[string]int {
	m := map[string]int{}
	for _, a := range answers {
		m[a]++
	}
	return m
}
