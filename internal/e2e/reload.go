package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// WriteConfig replaces the daemon's config file, the one a reload re-reads, with one
// vrrp_instance per spec.
func (l *Lvsd) WriteConfig(specs ...Spec) error {
	return l.WriteConfigText(LvsdConfigMulti(l.Host.Name, l.Socket, specs...))
}

// WriteConfigText replaces the daemon's config file with text as is (e.g. a broken one).
func (l *Lvsd) WriteConfigText(text string) error {
	return os.WriteFile(l.Config, []byte(text), 0o644)
}

// CLIResult is what one run of an lvsd subcommand did.
type CLIResult struct {
	Stdout, Stderr string
	Code           int // exit status
}

func (r CLIResult) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
}

// Lines returns the non-empty lines of stdout and stderr together.
func (r CLIResult) Lines() []string {
	var out []string
	for _, l := range strings.Split(r.Stdout+"\n"+r.Stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// diagnostic is one FILE:LINE:COL: message line (docs/contract.md).
var diagnostic = regexp.MustCompile(`^\S+:\d+:\d+: \S`)

// Diagnostics returns the FILE:LINE:COL: message lines of r that name file.
func (r CLIResult) Diagnostics(file string) []string {
	var out []string
	for _, l := range r.Lines() {
		if diagnostic.MatchString(l) && strings.HasPrefix(l, file+":") {
			out = append(out, l)
		}
	}
	return out
}

// Reload runs `lvsd reload --socket S`: the daemon re-reads its config file. The error is
// set only when the command could not be run at all.
func (l *Lvsd) Reload() (CLIResult, error) {
	return RunCLI(l.Bin, "reload", "--socket", l.Socket)
}

// Plan runs `lvsd plan --config path --socket S` (with --json when asJSON).
func (l *Lvsd) Plan(path string, asJSON bool) (CLIResult, error) {
	args := []string{"plan", "--config", path, "--socket", l.Socket}
	if asJSON {
		args = append(args, "--json")
	}
	return RunCLI(l.Bin, args...)
}

// RunCLI runs bin with args (from the caller's namespace: the control socket is a path)
// and returns its output and exit status; it gives up after 60 s.
func RunCLI(bin string, args ...string) (CLIResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := CLIResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		res.Code = exit.ExitCode()
	default:
		return res, fmt.Errorf("lvsd %s: %w (%s)", strings.Join(args, " "), err, res)
	}
	return res, nil
}

// Transitions returns each instance's transition counter by name.
func (l *Lvsd) Transitions() (map[string]uint64, error) {
	st, err := l.Status()
	if err != nil {
		return nil, err
	}
	m := map[string]uint64{}
	for _, v := range st.VRRP {
		m[v.Name] = v.Transitions
	}
	return m, nil
}

// keepalivedStateChange matches keepalived's log line for each state it enters.
var keepalivedStateChange = regexp.MustCompile(`Entering (MASTER|BACKUP|FAULT) STATE`)

// StateChanges returns keepalived's "Entering ... STATE" log lines so far.
func (k *Keepalived) StateChanges() []string {
	var out []string
	for _, line := range strings.Split(k.Log(), "\n") {
		if keepalivedStateChange.MatchString(line) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// WaitGARP reads s until a gratuitous ARP (sender IP = target IP = ip) from mac arrives or
// timeout passes.
func WaitGARP(s *netns.ARPSocket, ip, mac string, timeout time.Duration) error {
	addr := netip.MustParseAddr(ip)
	end := time.Now().Add(timeout)
	for {
		p, err := s.Read(end)
		if err != nil {
			return fmt.Errorf("no gratuitous ARP for %s from %s within %v", ip, mac, timeout)
		}
		if p.SenderIP == addr && p.TargetIP == addr && p.SenderMAC.String() == mac {
			return nil
		}
	}
}
