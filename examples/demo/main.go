// Command demo shows lvsd at work on one machine: two directors (VRRP MASTER and BACKUP)
// in front of two web servers (LVS-DR), each in a network namespace of its own, plus a
// client. It sends requests to the virtual IP, pulls the MASTER's cable, shows the BACKUP
// taking over with traffic still answered, plugs the cable back, and deletes everything it
// made. Run it as root: `sudo make demo`.
//
// Without IPVS in the kernel (no /proc/net/ip_vs, `modprobe ip_vs` fails) it says so and
// shows the VRRP part only: the directors answer the requests themselves. The full demo
// then runs inside a VM: `sudo make demo-vm`.
//
// Every namespace it creates starts with one prefix unique to the run; it deletes exactly
// those, also when interrupted (Ctrl-C).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// The demo's network: 192.0.2.0/24 is reserved for documentation (RFC 5737).
const (
	vip      = "192.0.2.50"
	clientIP = "192.0.2.100/24"
)

func main() {
	lvsd := flag.String("lvsd", "bin/lvsd", "the lvsd binary to run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *lvsd, haveIPVS()); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// haveIPVS reports whether this kernel has IPVS, loading the module if needed (as lvsd
// itself would).
func haveIPVS() bool {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		return true
	}
	_ = exec.Command("modprobe", "-q", "ip_vs").Run()
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

type demo struct {
	ctx  context.Context
	out  io.Writer
	bin  string
	dir  string
	lab  *netns.Lab
	ipvs bool
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

func (d *demo) step(title string) { d.say("\n== %s", title) }

func run(ctx context.Context, out io.Writer, bin string, ipvs bool) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces): sudo make demo")
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("lvsd binary: %w (run make first)", err)
	}
	dir, err := os.MkdirTemp("", "lvsd-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lab, err := netns.NewLab()
	if err != nil {
		return err
	}
	d := &demo{ctx: ctx, out: out, bin: bin, dir: dir, lab: lab, ipvs: ipvs}
	defer func() {
		lab.Close()
		d.say("\n== cleaned up: deleted the namespaces %s-*", lab.Prefix)
	}()
	d.say("lvsd demo: namespaces %s-*, addresses from 192.0.2.0/24 (documentation), VIP %s", lab.Prefix, vip)
	if !ipvs {
		d.say(`
This kernel has no IPVS (no /proc/net/ip_vs, and modprobe ip_vs failed), so the demo
shows VRRP failover only: the directors answer the requests themselves. For the whole
demo with IPVS load balancing, run it in a VM with a stock kernel: sudo make demo-vm`)
	}
	return d.play()
}

func (d *demo) play() error {
	client, err := d.lab.AddHost("client", clientIP)
	if err != nil {
		return err
	}
	dirA, err := d.lab.AddHost("dira", "192.0.2.1/24")
	if err != nil {
		return err
	}
	dirB, err := d.lab.AddHost("dirb", "192.0.2.2/24")
	if err != nil {
		return err
	}
	webs := []*netns.Host{dirA, dirB} // who answers HTTP on the VIP
	if d.ipvs {
		d.step("real servers: lvsd realserver setup (VIP on lo, ARP settings), a web server on :80")
		var rss []*netns.Host
		for i, ip := range []string{"192.0.2.11/24", "192.0.2.12/24"} {
			h, err := d.lab.AddHost(fmt.Sprintf("rs%d", i+1), ip)
			if err != nil {
				return err
			}
			out, err := h.Exec(d.bin, "realserver", "setup", "--vip", vip, "--state", filepath.Join(d.dir, h.Name+".json"))
			if err != nil {
				return err
			}
			d.say("%s$ lvsd realserver setup --vip %s\n%s", h.Name, vip, indent(out))
			rss = append(rss, h)
		}
		webs = rss
	}
	for _, h := range webs {
		if err := d.web(h); err != nil {
			return err
		}
	}

	d.step("directors: lvsd run on dira (priority 150) and dirb (priority 100)")
	procs := map[*netns.Host]*netns.Proc{}
	for _, h := range []*netns.Host{dirA, dirB} {
		p, err := d.startLvsd(h)
		if err != nil {
			return err
		}
		procs[h] = p
	}
	defer func() {
		for _, p := range procs {
			_ = p.Signal(syscall.SIGTERM)
			if ok, _ := p.Wait(10 * time.Second); !ok {
				p.Kill()
			}
		}
	}()
	d.say("config of dira:\n%s", indent(d.config("dira", 150)))
	if err := d.waitVIP(dirA, true, 20*time.Second); err != nil {
		return d.withLogs(err, procs)
	}
	d.say("dira is MASTER and holds %s", vip)
	d.status(dirA)
	d.status(dirB)

	d.step("traffic: 6 requests from the client to http://" + vip + "/")
	if err := d.requests(client, 6); err != nil {
		return d.withLogs(err, procs)
	}

	d.step("failover: pulling dira's cable")
	if err := dirA.SetPort(false); err != nil {
		return err
	}
	start := time.Now()
	if err := d.waitVIP(dirB, true, 20*time.Second); err != nil {
		return d.withLogs(err, procs)
	}
	d.say("dirb took over %s after the cable was pulled (3 missed adverts + skew)", time.Since(start).Round(100*time.Millisecond))
	d.status(dirB)
	if err := d.requests(client, 4); err != nil {
		return d.withLogs(err, procs)
	}

	d.step("recovery: plugging dira back in (it preempts: higher priority)")
	if err := dirA.SetPort(true); err != nil {
		return err
	}
	if err := d.waitVIP(dirB, false, 20*time.Second); err != nil {
		return d.withLogs(err, procs)
	}
	d.say("dirb released %s; dira is MASTER again", vip)
	if err := d.requests(client, 4); err != nil {
		return d.withLogs(err, procs)
	}

	d.step("stopping lvsd (SIGTERM: the MASTER hands over, VIPs and IPVS services are removed)")
	for h, p := range procs {
		_ = p.Signal(syscall.SIGTERM)
		if ok, err := p.Wait(15 * time.Second); !ok || err != nil {
			return d.withLogs(fmt.Errorf("lvsd in %s did not stop cleanly (%v)", h.Name, err), procs)
		}
		d.say("lvsd in %s stopped", h.Name)
	}
	if d.ipvs {
		for _, h := range webs {
			out, err := h.Exec(d.bin, "realserver", "teardown", "--state", filepath.Join(d.dir, h.Name+".json"))
			if err != nil {
				return err
			}
			d.say("%s$ lvsd realserver teardown\n%s", h.Name, indent(out))
		}
	}
	return nil
}

// config renders a director's configuration.
func (d *demo) config(name string, prio int) string {
	state := "BACKUP"
	if prio == 150 {
		state = "MASTER"
	}
	c := fmt.Sprintf(`global {
  router_id      = %q
  control_socket = %q
}

vrrp_instance "VI_1" {
  state             = %q
  interface         = %q
  virtual_router_id = 51
  priority          = %d
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    auth_pass = "demo"
  }
  virtual_ipaddress = ["%s/24"]
}
`, name, filepath.Join(d.dir, name+".sock"), state, d.lab.IfName, prio, vip)
	if d.ipvs {
		c += fmt.Sprintf(`
virtual_server "%s:80" {
  lb_algo    = "rr"
  lb_kind    = "DR"
  delay_loop = 2
  real_server "192.0.2.11:80" {
    tcp_check { connect_timeout = 1 }
  }
  real_server "192.0.2.12:80" {
    tcp_check { connect_timeout = 1 }
  }
}
`, vip)
	}
	return c
}

func (d *demo) startLvsd(h *netns.Host) (*netns.Proc, error) {
	prio := 100
	if h.Name == "dira" {
		prio = 150
	}
	cfg := filepath.Join(d.dir, h.Name+".hcl")
	if err := os.WriteFile(cfg, []byte(d.config(h.Name, prio)), 0o644); err != nil {
		return nil, err
	}
	return h.Start(d.bin, "run", "--config", cfg)
}

func (d *demo) status(h *netns.Host) {
	out, err := h.Exec(d.bin, "status", "--socket", filepath.Join(d.dir, h.Name+".sock"))
	if err != nil {
		d.say("%s$ lvsd status: %v", h.Name, err)
		return
	}
	d.say("%s$ lvsd status\n%s", h.Name, indent(out))
}

// waitVIP waits until h holds the VIP (want true) or no longer does.
func (d *demo) waitVIP(h *netns.Host, want bool, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for {
		has, err := h.HasAddr(h.If, vip)
		if err != nil {
			return err
		}
		if has == want {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: VIP %s present=%v, want %v after %v", h.Name, vip, has, want, timeout)
		}
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// web serves "hello from NAME" on port 80 (all addresses) in h's namespace. The server
// ends with the demo process; its namespace is deleted anyway.
func (d *demo) web(h *netns.Host) error {
	var ln net.Listener
	if err := h.Do(func() (err error) { ln, err = net.Listen("tcp4", ":80"); return err }); err != nil {
		return fmt.Errorf("web server in %s: %w", h.Name, err)
	}
	name := h.Name
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintf(w, "hello from %s\n", name) }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go srv.Serve(ln) // ends when the demo exits
	return nil
}

// requests sends n requests from h to the VIP, one new connection each, and prints who
// answered. It retries a failed request for a few seconds (the health checks need a moment
// to put the real servers in).
func (d *demo) requests(h *netns.Host, n int) error {
	for i := 0; i < n; i++ {
		var body string
		var err error
		for end := time.Now().Add(15 * time.Second); ; {
			if body, err = get(h); err == nil || time.Now().After(end) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("request %d: %w", i+1, err)
		}
		d.say("client$ curl http://%s/  ->  %s", vip, strings.TrimSpace(body))
	}
	return nil
}

func get(h *netns.Host) (string, error) {
	var c net.Conn
	if err := h.Do(func() (err error) {
		c, err = net.DialTimeout("tcp4", vip+":80", 2*time.Second)
		return err
	}); err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", vip); err != nil {
		return "", err
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	_, body, ok := strings.Cut(string(resp), "\r\n\r\n")
	if !ok || !strings.HasPrefix(string(resp), "HTTP/1.") {
		return "", fmt.Errorf("bad answer %q", resp)
	}
	return body, nil
}

func (d *demo) withLogs(err error, procs map[*netns.Host]*netns.Proc) error {
	for h, p := range procs {
		d.say("--- lvsd log of %s:\n%s", h.Name, p.Output())
	}
	return err
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
