// Package examples_test checks that every example config under examples/ is valid, that
// none silently loses a block (each file's summary is pinned here), and that the READMEs
// only point at files that exist.
package examples_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
)

// wantSummary pins (*config.Config).Summary() for every example file, keyed by its path
// relative to examples/. A new .hcl file without an entry fails, and so does an entry
// whose file is gone.
var wantSummary = map[string]string{
	"quickstart/director.hcl":            "1 vrrp instance, 1 virtual server, 2 real servers",
	"dr-one-segment/director.hcl":        "1 vrrp instance, 1 virtual server, 2 real servers",
	"dr-across-segments/director.hcl":    "1 vrrp instance, 1 virtual server, 2 real servers",
	"nat-wrr/director.hcl":               "0 vrrp instances, 1 virtual server, 2 real servers",
	"tun/director.hcl":                   "1 vrrp instance, 1 virtual server, 2 real servers",
	"active-backup/director-a.hcl":       "1 vrrp instance, 1 virtual server, 2 real servers, sync daemon",
	"active-backup/director-b.hcl":       "1 vrrp instance, 1 virtual server, 2 real servers, sync daemon",
	"two-box-fwmark/director-a.hcl":      "1 vrrp instance, 1 virtual server, 2 real servers, 1 localnode",
	"two-box-fwmark/director-b.hcl":      "1 vrrp instance, 1 virtual server, 2 real servers, 1 localnode",
	"two-box-bypass/director-a.hcl":      "1 vrrp instance, 1 virtual server, 2 real servers, 1 localnode",
	"two-box-bypass/director-b.hcl":      "1 vrrp instance, 1 virtual server, 2 real servers, 1 localnode",
	"two-box-backup-only/director-a.hcl": "1 vrrp instance, 1 virtual server, 2 real servers, 1 localnode, sync daemon",
	"two-box-backup-only/director-b.hcl": "1 vrrp instance, 1 virtual server, 2 real servers, 1 localnode, sync daemon",
}

// exampleFiles returns every *.hcl under the examples directory (the test's working
// directory), as slash-separated paths relative to it.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk examples: %v", err)
	}
	sort.Strings(files)
	return files
}

func TestExamplesLoad(t *testing.T) {
	files := exampleFiles(t)
	if len(files) == 0 {
		t.Fatal("no *.hcl files found under examples/")
	}
	seen := map[string]bool{}
	for _, f := range files {
		seen[f] = true
		t.Run(f, func(t *testing.T) {
			cfg, err := config.Load(f)
			if err != nil {
				// The error is config.Diagnostics: one FILE:LINE:COL line per problem.
				t.Fatalf("config.Load(%s) failed:\n%v", f, err)
			}
			// Examples are what users copy: not even a warning is acceptable.
			if len(cfg.Warnings) > 0 {
				t.Errorf("config.Load(%s) warnings:\n%v", f, cfg.Warnings)
			}
			want, ok := wantSummary[f]
			if !ok {
				t.Fatalf("no expected summary for %s: add it to wantSummary (got %q)", f, cfg.Summary())
			}
			if got := cfg.Summary(); got != want {
				t.Errorf("%s: Summary() = %q, want %q", f, got, want)
			}
		})
	}
	for f := range wantSummary {
		if !seen[f] {
			t.Errorf("wantSummary lists %s, but there is no such file", f)
		}
	}
}

// configRef matches the config path of an lvsd command in a README, e.g.
// "lvsd run --config examples/tun/director.hcl".
var configRef = regexp.MustCompile(`--config[ =](examples/[^\s` + "`" + `|)]+)`)

func TestReadmeConfigPathsExist(t *testing.T) {
	var readmes []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "README.md" {
			readmes = append(readmes, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk examples: %v", err)
	}
	// Every example file must be reachable from some README's run command.
	referenced := map[string]bool{}
	for _, readme := range readmes {
		text, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range configRef.FindAllStringSubmatch(string(text), -1) {
			p := m[1]
			rel := strings.TrimPrefix(p, "examples/")
			referenced[rel] = true
			if _, err := os.Stat(filepath.FromSlash(rel)); err != nil {
				t.Errorf("%s: --config %s: %v", readme, p, err)
			}
		}
	}
	for _, f := range exampleFiles(t) {
		if !referenced[f] {
			t.Errorf("examples/%s is not shown in any README's lvsd run command", f)
		}
	}
}

// TestDirectorPairsAgree checks the two directors of every pair (director-a.hcl and
// director-b.hcl in one folder) on what VRRP peers must share: a difference in VRID,
// advert_int, authentication or VIP list makes each ignore the other's adverts, and both
// become MASTER. Their virtual servers must list the same real servers.
func TestDirectorPairsAgree(t *testing.T) {
	pairs := 0
	for _, f := range exampleFiles(t) {
		dir, base := filepath.Split(f)
		if base != "director-a.hcl" {
			continue
		}
		pairs++
		t.Run(dir, func(t *testing.T) {
			a, err := config.Load(f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			fb := dir + "director-b.hcl"
			b, err := config.Load(fb)
			if err != nil {
				t.Fatalf("%s: %v", fb, err)
			}
			if len(a.VRRPInstances) != len(b.VRRPInstances) || len(a.VRRPInstances) == 0 {
				t.Fatalf("vrrp instances: %d in a, %d in b", len(a.VRRPInstances), len(b.VRRPInstances))
			}
			for _, ia := range a.VRRPInstances {
				ib := b.Instance(ia.Name)
				if ib == nil {
					t.Errorf("vrrp_instance %q only in director-a", ia.Name)
					continue
				}
				shared := func(in *config.VRRPInstance) string {
					return fmt.Sprintf("iface=%s vrid=%d advert=%v auth=%v/%q vips=%v",
						in.Interface, in.VRID, in.AdvertInt, in.AuthType, in.AuthPass, in.VIPs)
				}
				if sa, sb := shared(&ia), shared(ib); sa != sb {
					t.Errorf("vrrp_instance %q differs:\n a: %s\n b: %s", ia.Name, sa, sb)
				}
				if ia.InitialState != config.StateMaster || ib.InitialState != config.StateBackup {
					t.Errorf("vrrp_instance %q: want a MASTER and b BACKUP, got %v and %v", ia.Name, ia.InitialState, ib.InitialState)
				}
				if ia.Priority <= ib.Priority {
					t.Errorf("vrrp_instance %q: a's priority %d should be above b's %d", ia.Name, ia.Priority, ib.Priority)
				}
			}
			if len(a.VirtualServers) != len(b.VirtualServers) {
				t.Fatalf("virtual servers: %d in a, %d in b", len(a.VirtualServers), len(b.VirtualServers))
			}
			for i := range a.VirtualServers {
				va, vb := &a.VirtualServers[i], &b.VirtualServers[i]
				// fwmark numbers are local to each box (tutorial 001 uses 3 and 4); the rest is shared.
				if !va.IsFWMark() && va.Name != vb.Name {
					t.Errorf("virtual server %d: %q in a, %q in b", i, va.Name, vb.Name)
				}
				if va.LBAlgo != vb.LBAlgo || va.LBKind != vb.LBKind || va.Protocol != vb.Protocol {
					t.Errorf("virtual server %q: algo/kind/protocol differ: %s/%v/%v vs %s/%v/%v",
						va.Name, va.LBAlgo, va.LBKind, va.Protocol, vb.LBAlgo, vb.LBKind, vb.Protocol)
				}
				if ra, rb := realServers(va), realServers(vb); !slices.Equal(ra, rb) {
					t.Errorf("virtual server %q: real servers differ: %v vs %v", va.Name, ra, rb)
				}
			}
			if (a.SyncDaemon == nil) != (b.SyncDaemon == nil) {
				t.Errorf("lvs_sync_daemon in only one of the pair")
			} else if a.SyncDaemon != nil && a.SyncDaemon.SyncID != b.SyncDaemon.SyncID {
				t.Errorf("sync_id %d vs %d", a.SyncDaemon.SyncID, b.SyncDaemon.SyncID)
			}
			if len(a.Localnodes) != len(b.Localnodes) {
				t.Errorf("localnode blocks: %d vs %d", len(a.Localnodes), len(b.Localnodes))
			}
			for i := range min(len(a.Localnodes), len(b.Localnodes)) {
				la, lb := a.Localnodes[i], b.Localnodes[i]
				if la.Mode != lb.Mode || la.VIP != lb.VIP || la.Port != lb.Port {
					t.Errorf("localnode %q: mode/vip/port differ: %v/%v/%d vs %v/%v/%d",
						la.Name, la.Mode, la.VIP, la.Port, lb.Mode, lb.VIP, lb.Port)
				}
				if la.Mode == config.ModeFWMark && la.PeerMAC.String() == lb.PeerMAC.String() {
					t.Errorf("localnode %q: both boxes name the same peer_mac %v; each names the other's", la.Name, la.PeerMAC)
				}
			}
		})
	}
	if pairs == 0 {
		t.Fatal("no director-a.hcl found: the pair examples are gone")
	}
}

func realServers(vs *config.VirtualServer) []string {
	out := make([]string, len(vs.RealServers))
	for i, rs := range vs.RealServers {
		out[i] = fmt.Sprintf("%v w%d", rs.Addr, rs.Weight)
	}
	return out
}
