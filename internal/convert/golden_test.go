package convert

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// TestGolden converts each testdata/golden/*.conf with config id "main" against lvsd's
// whole schema and compares the HCL (NAME.hcl) and the diagnostics (NAME.diags) with the
// golden files; go test -run TestGolden -update rewrites them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range files {
		base := strings.TrimSuffix(in, ".conf")
		t.Run(filepath.Base(base), func(t *testing.T) {
			res := File(in, Options{ConfigID: "main", Env: func(string) string { return "" }})
			var diags bytes.Buffer
			for _, d := range res.Diags {
				diags.WriteString(d.String() + "\n")
			}
			compareGolden(t, base+".hcl", res.HCL)
			compareGolden(t, base+".diags", diags.Bytes())
			if res.Refused() {
				return
			}
			// What lvsd's schema has today must validate.
			if now := File(in, Options{ConfigID: "main", Supported: config.Known}); !now.Refused() {
				if _, err := config.Parse(base+".hcl", now.HCL); err != nil {
					t.Errorf("converted HCL does not validate:\n%v\n%s", err, now.HCL)
				}
			}
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if len(got) == 0 {
			os.Remove(path)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -run TestGolden -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
