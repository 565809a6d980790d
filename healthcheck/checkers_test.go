package healthcheck

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// families are the loopbacks the checker tests run on.
var families = []struct{ name, network, ip string }{
	{"tcp4", "tcp4", "127.0.0.1"},
	{"tcp6", "tcp6", "::1"},
}

func listen(t *testing.T, network, ip string) net.Listener {
	t.Helper()
	l, err := net.Listen(network, net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen %s: %v", network, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// closedPort returns an address where nothing listens (a listener opened then closed).
func closedPort(t *testing.T, network, ip string) netip.AddrPort {
	l, err := net.Listen(network, net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ap := addrPort(t, l.Addr())
	l.Close()
	return ap
}

// fullBacklog returns a listening address whose accept queue is full and never drained:
// further SYNs are dropped, so a connect times out, all on loopback.
func fullBacklog(t *testing.T, network, ip string) netip.AddrPort {
	t.Helper()
	fam, sa := syscall.AF_INET, syscall.Sockaddr(&syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	if network == "tcp6" {
		fam, sa = syscall.AF_INET6, &syscall.SockaddrInet6{Addr: netip.IPv6Loopback().As16()}
	}
	fd, err := syscall.Socket(fam, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, sa); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	var ap netip.AddrPort
	switch s := got.(type) {
	case *syscall.SockaddrInet4:
		ap = netip.AddrPortFrom(netip.AddrFrom4(s.Addr), uint16(s.Port))
	case *syscall.SockaddrInet6:
		ap = netip.AddrPortFrom(netip.AddrFrom16(s.Addr), uint16(s.Port))
	}
	for i := 0; i < 4; i++ { // fill the queue (backlog 0 holds one): until a connect hangs
		c, err := net.DialTimeout(network, ap.String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return ap
}

func TestTCPChecker(t *testing.T) {
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			l := listen(t, f.network, f.ip)
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			up := addrPort(t, l.Addr())
			refused := closedPort(t, f.network, f.ip)
			hung := fullBacklog(t, f.network, f.ip)
			tests := []struct {
				name   string
				target netip.AddrPort
				up     bool
				why    string
			}{
				{"up", up, true, "connected to " + up.String()},
				{"refused", refused, false, "connect " + refused.String() + ": connection refused"},
				{"timeout", hung, false, "connect " + hung.String() + ": timeout after 300ms"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := NewTCPChecker(TCPConfig{ConnOpts{Target: tt.target, ConnectTimeout: 300 * time.Millisecond}})
					r := c.Check(context.Background())
					if r.Up != tt.up || r.Why != tt.why {
						t.Errorf("Check = up %v why %q; want up %v why %q", r.Up, r.Why, tt.up, tt.why)
					}
				})
			}
		})
	}
}

func TestTCPCheckerBindTo(t *testing.T) {
	l := listen(t, "tcp4", "127.0.0.1")
	from := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		from <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Close()
	}()
	c := NewTCPChecker(TCPConfig{ConnOpts{Target: addrPort(t, l.Addr()), BindTo: netip.MustParseAddr("127.0.0.2")}})
	if r := c.Check(context.Background()); !r.Up {
		t.Fatalf("Check: %s", r.Why)
	}
	if got := <-from; got != "127.0.0.2" {
		t.Errorf("connection came from %s, want bindto 127.0.0.2", got)
	}
}

func TestConnOptsWithDefaults(t *testing.T) {
	rs := netip.MustParseAddrPort("10.0.0.5:80")
	got := ConnOpts{}.WithDefaults(rs)
	if got.Target != rs || got.ConnectTimeout != DefaultConnectTimeout {
		t.Errorf("defaults = %+v", got)
	}
	got = ConnOpts{Target: netip.AddrPortFrom(netip.Addr{}, 8080)}.WithDefaults(rs)
	if got.Target.String() != "10.0.0.5:8080" {
		t.Errorf("connect_port only: %v", got.Target)
	}
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestHTTPChecker(t *testing.T) {
	const body = "hello from the real server\n"
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(302) })
	mux.HandleFunc("/host", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "www.example.com" {
			w.WriteHeader(421)
			return
		}
		fmt.Fprint(w, "vhost ok")
	})
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(mux)
			srv.Listener = listen(t, f.network, f.ip)
			srv.Start()
			t.Cleanup(srv.Close)
			target := addrPort(t, srv.Listener.Addr())

			hang := listen(t, f.network, f.ip) // accepts, never answers
			go func() {
				for {
					c, err := hang.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { c.Close() })
				}
			}()
			refused := closedPort(t, f.network, f.ip)

			tests := []struct {
				name   string
				target netip.AddrPort
				vhost  string
				urls   []URL
				up     bool
				why    string
			}{
				{name: "default 2xx", urls: []URL{{Path: "/ok"}}, up: true},
				{name: "digest ok", urls: []URL{{Path: "/ok", Digest: strings.ToUpper(md5hex(body))}}, up: true},
				{name: "wrong digest", urls: []URL{{Path: "/ok", Digest: md5hex("other")}}, why: "/ok: digest " + md5hex(body) + ", want " + md5hex("other")},
				{name: "wrong status", urls: []URL{{Path: "/missing"}}, why: "/missing: status 404, want 200-299"},
				{name: "status range", urls: []URL{{Path: "/moved", StatusCodes: []StatusRange{{300, 399}}}}, up: true},
				{name: "all urls must pass", urls: []URL{{Path: "/ok"}, {Path: "/missing", StatusCodes: []StatusRange{{200, 200}}}}, why: "/missing: status 404, want 200"},
				{name: "virtualhost", vhost: "www.example.com", urls: []URL{{Path: "/host"}}, up: true},
				{name: "no virtualhost", urls: []URL{{Path: "/host"}}, why: "/host: status 421"},
				{name: "url virtualhost", urls: []URL{{Path: "/host", VirtualHost: "www.example.com"}}, up: true},
				{name: "refused", target: refused, urls: []URL{{Path: "/"}}, why: "connect " + refused.String() + ": connection refused"},
				{name: "no answer", target: addrPort(t, hang.Addr()), urls: []URL{{Path: "/"}}, why: ": read response: timeout after 300ms"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tgt := tt.target
					if !tgt.IsValid() {
						tgt = target
					}
					c, err := NewHTTPChecker(HTTPConfig{ConnOpts: ConnOpts{Target: tgt, ConnectTimeout: 300 * time.Millisecond}, VirtualHost: tt.vhost, URLs: tt.urls})
					if err != nil {
						t.Fatal(err)
					}
					r := c.Check(context.Background())
					if r.Up != tt.up || !strings.Contains(r.Why, tt.why) {
						t.Errorf("Check = up %v why %q; want up %v why containing %q", r.Up, r.Why, tt.up, tt.why)
					}
				})
			}
		})
	}
}

func TestHTTPCheckerTLS(t *testing.T) {
	const body = "secure\n"
	sni := make(chan string, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sni <- r.TLS.ServerName
		fmt.Fprint(w, body)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the verify case makes the server log a bad certificate
	srv.StartTLS()
	t.Cleanup(srv.Close)
	target := addrPort(t, srv.Listener.Addr())
	for _, tt := range []struct {
		name, vhost string
		enableSNI   bool
		sni         string
	}{
		{"no SNI for an IP", "", true, ""},
		{"virtualhost as SNI with enable_sni", "www.example.com", true, "www.example.com"},
		{"no SNI without enable_sni", "www.example.com", false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewHTTPChecker(HTTPConfig{ConnOpts: ConnOpts{Target: target, ConnectTimeout: 2 * time.Second}, TLS: true, VirtualHost: tt.vhost, EnableSNI: tt.enableSNI,
				URLs: []URL{{Path: "/", Digest: md5hex(body)}}})
			if err != nil {
				t.Fatal(err)
			}
			if r := c.Check(context.Background()); !r.Up {
				t.Fatalf("self-signed TLS check failed (certificates must not be verified by default): %s", r.Why)
			}
			if got := <-sni; got != tt.sni {
				t.Errorf("SNI %q, want %q", got, tt.sni)
			}
		})
	}
	t.Run("verify rejects self-signed", func(t *testing.T) {
		c, _ := NewHTTPChecker(HTTPConfig{ConnOpts: ConnOpts{Target: target, ConnectTimeout: 2 * time.Second}, TLS: true, VerifyCert: true, URLs: []URL{{Path: "/"}}})
		if r := c.Check(context.Background()); r.Up || !strings.Contains(r.Why, "TLS handshake") {
			t.Errorf("Check = up %v why %q; want a handshake failure", r.Up, r.Why)
		}
	})
}

func TestNewHTTPCheckerRejects(t *testing.T) {
	if _, err := NewHTTPChecker(HTTPConfig{}); err == nil {
		t.Error("no url accepted")
	}
	if _, err := NewHTTPChecker(HTTPConfig{URLs: []URL{{Path: "/", Digest: "abc"}}}); err == nil {
		t.Error("short digest accepted")
	}
}

func TestMiscChecker(t *testing.T) {
	w := func(n int) *int { return &n }
	tests := []struct {
		name    string
		path    string
		dynamic bool
		up      bool
		weight  *int
		why     string
	}{
		{name: "exit 0", path: "/bin/true", up: true, why: "exit 0"},
		{name: "exit 1", path: "/bin/false", why: "exit 1"},
		{name: "exit 5 static", path: "/bin/sh -c 'exit 5'", why: "exit 5"},
		{name: "dynamic exit 0", path: "/bin/true", dynamic: true, up: true},
		{name: "dynamic exit 1 is down", path: "/bin/false", dynamic: true, why: "exit 1"},
		{name: "dynamic exit 2 weight 0", path: "/bin/sh -c 'exit 2'", dynamic: true, up: true, weight: w(0)},
		{name: "dynamic exit 12 weight 10", path: "/bin/sh -c 'exit 12'", dynamic: true, up: true, weight: w(10), why: "weight 10"},
		{name: "missing", path: "/nonexistent/check", why: "start /nonexistent/check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewMiscChecker(MiscConfig{Path: tt.path, Dynamic: tt.dynamic}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Check(context.Background())
			if r.Up != tt.up || fmt.Sprint(deref(r.Weight)) != fmt.Sprint(deref(tt.weight)) || !strings.Contains(r.Why, tt.why) {
				t.Errorf("Check = up %v weight %v why %q; want up %v weight %v why ~%q", r.Up, deref(r.Weight), r.Why, tt.up, deref(tt.weight), tt.why)
			}
		})
	}
	if _, err := NewMiscChecker(MiscConfig{Path: "  "}, time.Second); err == nil {
		t.Error("empty misc_path accepted")
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestMiscCheckerTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	c, err := NewMiscChecker(MiscConfig{Path: "/bin/sh -c 'sleep 100 & echo $! > " + pidFile + "; wait'", Timeout: 300 * time.Millisecond}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(context.Background())
	if r.Up || !strings.Contains(r.Why, "timed out after 300ms") {
		t.Errorf("Check = up %v why %q; want a timeout", r.Up, r.Why)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(st), ") Z") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background sleep %d survived the timed-out check", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMiscCheckerRunsAsCred runs a real misc_check as nobody (needs root to switch users):
// the script is up only when it sees nobody's uid, and down when run as lvsd itself.
func TestMiscCheckerRunsAsCred(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("needs root to run a script as another user")
	}
	const path = `/bin/sh -c 'test "$(id -u)" = 65534'`
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	for _, tt := range []struct {
		cred *syscall.Credential
		up   bool
	}{{cred: nobody, up: true}, {cred: nil, up: false}} {
		c, err := NewMiscChecker(MiscConfig{Path: path, Cred: tt.cred}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if r := c.Check(context.Background()); r.Up != tt.up {
			t.Errorf("cred %+v: Check = up %v (%s), want up %v", tt.cred, r.Up, r.Why, tt.up)
		}
	}
}
