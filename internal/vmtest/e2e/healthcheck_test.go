//go:build vmtest

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// toggleServer is an HTTP server that a test can stop and start again, as an operator
// stops a real server's web service.
type toggleServer struct {
	l        *lab
	ns, addr string
	name     string
	mu       sync.Mutex
	srv      *http.Server
}

func (l *lab) toggleHTTP(ns, addr, name string) *toggleServer {
	s := &toggleServer{l: l, ns: ns, addr: addr, name: name}
	s.start()
	l.t.Cleanup(s.stop)
	return s
}

func (s *toggleServer) start() {
	s.l.t.Helper()
	var ln net.Listener
	if err := inNS(s.ns, func() (err error) { ln, err = net.Listen("tcp", s.addr); return err }); err != nil {
		s.l.t.Fatalf("listen %s in %s: %v", s.addr, s.ns, err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, s.name) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln) // ends when stop closes it
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

func (s *toggleServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// Health-check timing of the config below: a server is removed within
// delay_loop + (retry+1) x (connect_timeout + delay_before_retry) = 1 + 2 x (1 + 1) = 5 s;
// the waits add TCG slack.
const hcRemoveWithin = 5*time.Second + 10*time.Second

const segSorry = "192.168.0.181"

// TestHealthChecks: stopping a real server's HTTP server removes it from IPVS and clients
// stop reaching it; starting it brings it back; inhibit_on_failure keeps a down server with
// weight 0; with every real server down the sorry server answers, and it goes away again
// when they come back. `lvsd status` tells why a server is down.
func TestHealthChecks(t *testing.T) {
	l := newSegLab(t, "lo")
	// The lab's own servers cannot be stopped; replace them with ones that can.
	sorry := l.ns("sorry")
	l.plug(sorry, "eth0", "br0", segSorry+"/24")
	l.sysctl(sorry, "net.ipv4.conf.all.arp_ignore", "1", "net.ipv4.conf.eth0.arp_ignore", "1",
		"net.ipv4.conf.all.arp_announce", "2", "net.ipv4.conf.eth0.arp_announce", "2")
	l.addr(sorry, "lo", segVIP+"/32", "lo:0")
	l.httpServer(sorry, "0.0.0.0:80", "sorry")
	rs1 := l.toggleHTTP(l.rs1, segRS1+":8080", "rs1") // checked by http_get on :8080
	rs2 := l.toggleHTTP(l.rs2, segRS2+":8080", "rs2") // checked by tcp_check on :8080

	hcl := segConfig(fmt.Sprintf(`virtual_server "%s:80" {
  lb_algo      = "rr"
  lb_kind      = "DR"
  delay_loop   = 1
  sorry_server = "%s:80"
  real_server "%s:80" {
    http_get {
      url {
        path        = "/"
        status_code = 200
      }
      connect_port       = 8080
      connect_timeout    = 1
      retry              = 1
      delay_before_retry = 1
    }
  }
  real_server "%s:80" {
    inhibit_on_failure = true
    tcp_check {
      connect_port       = 8080
      connect_timeout    = 1
      retry              = 1
      delay_before_retry = 1
    }
  }
}
`, segVIP, segSorry, segRS1, segRS2))
	p := l.startLvsd(l.dir, hcl)
	both := []string{"TCP 192.168.0.101:80 rr | -> 192.168.0.179:80 Route 1 | -> 192.168.0.180:80 Route 1"}
	p.waitTable(both, 30*time.Second)
	// Real servers start up (no alpha); wait for each one's first passing check, since a
	// server that fails before any check passed goes down at once (as in keepalived).
	p.waitChecked(t, segRS1+":80", segRS2+":80")
	c := client(l.cli)

	// rs1's service stops: removed, clients only reach rs2.
	rs1.stop()
	took := p.waitTable([]string{"TCP 192.168.0.101:80 rr | -> 192.168.0.180:80 Route 1"}, hcRemoveWithin)
	t.Logf("rs1 removed %v after its service stopped", took)
	if c := count(getN(t, c, "http://"+segVIP+"/", 4)); c["rs2"] != 4 {
		t.Errorf("with rs1 down, 4 requests reached %v, want rs2 only", c)
	}
	st := p.statusRealServers(t)
	if rs := st[segRS1+":80"]; rs.Healthy || !strings.Contains(rs.LastResult, "connect") {
		t.Errorf("status of rs1: %+v, want unhealthy with a connect error as the cause", rs)
	}

	// It comes back: one success is enough.
	rs1.start()
	p.waitTable(both, hcRemoveWithin)
	p.waitChecked(t, segRS1+":80")

	// rs2 stops: inhibit_on_failure keeps it with weight 0, clients only reach rs1.
	rs2.stop()
	inhibited := []string{"TCP 192.168.0.101:80 rr | -> 192.168.0.179:80 Route 1 | -> 192.168.0.180:80 Route 0"}
	p.waitTable(inhibited, hcRemoveWithin)
	if c := count(getN(t, c, "http://"+segVIP+"/", 4)); c["rs1"] != 4 {
		t.Errorf("with rs2 inhibited, 4 requests reached %v, want rs1 only", c)
	}

	// Everything down: quorum lost, the sorry server answers (the inhibited server stays
	// at weight 0, as keepalived does).
	rs1.stop()
	sorryTable := []string{"TCP 192.168.0.101:80 rr | -> 192.168.0.180:80 Route 0 | -> 192.168.0.181:80 Route 1"}
	p.waitTable(sorryTable, hcRemoveWithin)
	if c := count(getN(t, c, "http://"+segVIP+"/", 3)); c["sorry"] != 3 {
		t.Errorf("with every real server down, 3 requests reached %v, want the sorry server", c)
	}

	// Both back: the sorry server leaves.
	rs1.start()
	rs2.start()
	p.waitTable(both, hcRemoveWithin)
	alternates(t, getN(t, c, "http://"+segVIP+"/", 4))
}

type rsStatus struct {
	Address    string `json:"address"`
	Weight     int    `json:"weight"`
	Healthy    bool   `json:"healthy"`
	LastResult string `json:"last_result"`
}

// statusRealServers reads `lvsd status --json` and indexes the real servers by address.
func (p *lvsdProc) statusRealServers(t *testing.T) map[string]rsStatus {
	t.Helper()
	var st struct {
		VirtualServers []struct {
			RealServers []rsStatus `json:"real_servers"`
		} `json:"virtual_servers"`
	}
	out := p.waitReady(10 * time.Second)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("lvsd status --json: %v\n%s", err, out)
	}
	m := map[string]rsStatus{}
	for _, vs := range st.VirtualServers {
		for _, rs := range vs.RealServers {
			m[rs.Address] = rs
		}
	}
	return m
}

// waitChecked waits until each real server has passed a health check.
func (p *lvsdProc) waitChecked(t *testing.T, addrs ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := p.statusRealServers(t)
		ok := true
		for _, a := range addrs {
			if rs := st[a]; !rs.Healthy || rs.LastResult == "" {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("real servers %v not all checked healthy within 20s: %+v", addrs, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
