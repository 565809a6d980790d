package convert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
)

// corpusOutcome is what became of one corpus file.
type corpusOutcome int

const (
	converted corpusOutcome = iota // converted, and lvsd validates the result
	refused                        // refused by the converter, every line positioned
	invalid                        // converted, but lvsd refuses the result (positioned)
)

// convertCorpusFile converts path against lvsd's current schema and checks that every
// problem is positioned in the keepalived files.
func convertCorpusFile(t *testing.T, path string) corpusOutcome {
	t.Helper()
	res := File(path, Options{ConfigID: "corpus", Supported: config.Known, Env: func(string) string { return "" }})
	for _, d := range res.Diags {
		if d.Refused && (d.Pos.File == "" || d.Pos.Line == 0) {
			t.Errorf("refusal without a position: %v", d)
		}
	}
	if res.Refused() {
		return refused
	}
	_, err := config.Parse(path+".hcl", res.HCL)
	if err == nil {
		return converted
	}
	var diags config.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("validate: %v", err)
	}
	for _, d := range diags {
		if src := res.Source(d.Line); src.Line == 0 {
			t.Errorf("converted HCL invalid at %s:%d, which maps to no keepalived line: %s", path, d.Line, d.Message)
		}
	}
	return invalid
}

// TestCorpus runs every public keepalived.conf of testdata/corpus through the converter
// and lvsd's validation (see testdata/corpus/README.md for their sources).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[corpusOutcome]int{}
	total := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		total++
		t.Run(filepath.Base(f), func(t *testing.T) {
			counts[convertCorpusFile(t, f)]++
		})
	}
	if total < 40 {
		t.Fatalf("only %d corpus files", total)
	}
	t.Logf("corpus: %d files: %d converted and valid, %d refused by the converter, %d refused by validation",
		total, counts[converted], counts[refused], counts[invalid])
	readme, err := os.ReadFile("testdata/corpus/README.md")
	if err != nil {
		t.Fatalf("corpus sources: %v", err)
	}
	for _, f := range files {
		if name := filepath.Base(f); name != "README.md" && !strings.Contains(string(readme), "| "+name+" |") {
			t.Errorf("%s: source not listed in testdata/corpus/README.md", name)
		}
	}
}
