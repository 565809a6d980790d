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
	// keepalived's own samples show off features one by one; the public configurations are
	// what users run. Both are counted apart.
	type tally struct{ total, converted, refused, invalid int }
	var samples, public tally
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		tl := &public
		if strings.HasPrefix(filepath.Base(f), "keepalived__") {
			tl = &samples
		}
		tl.total++
		t.Run(filepath.Base(f), func(t *testing.T) {
			switch convertCorpusFile(t, f) {
			case converted:
				tl.converted++
			case refused:
				tl.refused++
			case invalid:
				tl.invalid++
			}
		})
	}
	if samples.total+public.total < 40 {
		t.Fatalf("only %d corpus files", samples.total+public.total)
	}
	for _, x := range []struct {
		name string
		tl   tally
	}{{"public configurations", public}, {"keepalived's samples", samples}} {
		t.Logf("corpus, %s: %d files: %d converted and valid, %d refused by the converter, %d refused by validation",
			x.name, x.tl.total, x.tl.converted, x.tl.refused, x.tl.invalid)
	}
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
