package convert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConvert feeds arbitrary bytes through the preprocessor, the parser and the mapping
// (includes are not followed, so that no input reaches the file system): no panic, every
// diagnostic positioned in the input, and either HCL or a refusal.
func FuzzConvert(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/golden/*.conf")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("$A=${A}${A}\n$A\n"))
	f.Add([]byte("$A=\\\n$A \\\n$A\n$A\n"))
	f.Add([]byte("~SEQ(N,1,100000) ~SEQ(M,1,100000) x\n"))
	f.Add([]byte("vrrp_instance V {\n{{{{\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > MaxFileSize {
			return
		}
		p := &preprocessor{configID: "main", env: func(string) string { return "" }, defs: map[string][]string{}, noInclude: true}
		p.processSource("fuzz.conf", string(src), 0)
		res := finish("fuzz.conf", p, Options{})
		for _, d := range res.Diags {
			if d.Pos.File != "fuzz.conf" || d.Message == "" || strings.Contains(d.Message, "\n") {
				t.Fatalf("bad diagnostic %#v", d)
			}
		}
		if res.Refused() == (res.HCL != nil) {
			t.Fatalf("refused %v but HCL %q", res.Refused(), res.HCL)
		}
	})
}
