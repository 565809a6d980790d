// Package examples_test checks that every example config under examples/ is valid, that
// none silently loses a block (each file's summary is pinned here), and that the READMEs
// only point at files that exist.
package examples_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
)

// wantSummary pins (*config.Config).Summary() for every example file, keyed by its path
// relative to examples/. A new .hcl file without an entry fails, and so does an entry
// whose file is gone.
var wantSummary = map[string]string{
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
