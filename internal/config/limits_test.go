package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileInput: input that is not a configuration, or that would cost unbounded time or
// memory, is refused with exactly one line, positioned where that makes sense, without panic.
func TestHostileInput(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"NUL byte", "global {\n  router_id = \"a\x00b\"\n}\n", `t.hcl:2:17: not a text file (NUL byte): refused before parsing`},
		{"keepalived words in a binary", "vrrp_instance VI_1 {\n  state MASTER\n}\n\x00", `t.hcl:4:1: not a text file (NUL byte): refused before parsing`},
		{"invalid UTF-8", "global {}\n# caf\xe9\n", `t.hcl:2:6: not a text file (invalid UTF-8): refused before parsing`},
		{"deep brackets", "x = " + strings.Repeat("[", 200000) + strings.Repeat("]", 200000), `t.hcl:1:69: nested more than 64 levels deep: refused before parsing`},
		{"deep parentheses", "x = " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000), `t.hcl:1:69: nested more than 64 levels deep: refused before parsing`},
		{"deep blocks", strings.Repeat("a {\n", 70), `t.hcl:65:3: nested more than 64 levels deep: refused before parsing`},
		{"deep templates", "x = " + strings.Repeat(`"${`, 40) + strings.Repeat(`}"`, 40), `t.hcl:1:101: nested more than 64 levels deep: refused before parsing`},
		{"too many tokens", strings.Repeat("a ", MaxTokens+1), `t.hcl: too large: more than 600000 tokens in the configuration (about 2.6 MB of ordinary config): refused before parsing`},
		{"too big", strings.Repeat("#", MaxFileSize+1), `t.hcl: file is larger than 16 MiB: not a configuration, refused before parsing`},
		{"3 MB string", "global {\n  router_id = \"" + strings.Repeat("a", 3<<20) + "\"\n}\n", `t.hcl:2:15: router_id: a string of 3145728 bytes is too long (at most 4096)`},
		{"3 MB string in a list", "vrrp_instance \"V\" {\n interface = \"eth0\"\n virtual_router_id = 1\n track_interface = [\"" + strings.Repeat("a", 3<<20) + "\"]\n}\n", `t.hcl:4:20: track_interface: a string of 3145728 bytes is too long (at most 4096)`},
		{"1e400", "global {\n  keep_ipvs_on_stop = 1e400\n}\n", `t.hcl:2:23: keep_ipvs_on_stop must be true or false, got a huge number`},
		{"huge exponent", "vrrp_instance \"V\" {\n interface = \"eth0\"\n virtual_router_id = 1e999999999\n}\n", `t.hcl:3:22: virtual_router_id must be from 1 to 255, got a huge number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.hcl", []byte(tc.src))
			checkDiags(t, err, []string{tc.want})
		})
	}
}

// TestScreenAcceptsOrdinaryText: the screen does not refuse what real configs contain.
func TestScreenAcceptsOrdinaryText(t *testing.T) {
	src := `# comment with { [ ( and "quotes
// another { {
/* block { [ ( */
global {
  router_id = "dïrector-ä \" { [ ("  # unbalanced brackets inside strings and comments
  control_socket = "/run/lvsd/$${x}.sock"
}
`
	if _, err := Parse("t.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	tokens := 0
	if d := screen(File{Name: "t.hcl", Src: []byte(src)}, &tokens); d != nil || tokens == 0 {
		t.Errorf("screen = %v, %d tokens", d, tokens)
	}
}

// TestTokensAcrossFiles: the token budget is for all merged files together.
func TestTokensAcrossFiles(t *testing.T) {
	half := []byte(strings.Repeat("a ", MaxTokens/2+1))
	_, err := ParseFiles([]File{{Name: "a.hcl", Src: half}, {Name: "b.hcl", Src: half}})
	var ds Diagnostics
	if !errors.As(err, &ds) || len(ds) != 2 || ds[1].File != "b.hcl" || !strings.Contains(ds[1].Message, "too large") {
		t.Fatalf("err = %v", err)
	}
}

// TestDiagnosticsCapped: 200 problems are listed as the first 50 and one line for the rest.
func TestDiagnosticsCapped(t *testing.T) {
	_, err := Parse("t.hcl", []byte(strings.Repeat("bogus {}\n", 200)))
	var ds Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("err = %v", err)
	}
	if len(ds) != MaxDiagnostics+1 || ds.Count() != 200 {
		t.Fatalf("%d lines, count %d; want %d lines, count 200", len(ds), ds.Count(), MaxDiagnostics+1)
	}
	if ds[49].Line != 50 || ds[50].String() != "t.hcl: and 150 more problems not listed" {
		t.Errorf("line 50: %v; last: %v", ds[49], ds[50])
	}
	ws := Diagnostics{}
	for range 60 {
		ws = append(ws, Diagnostic{File: "t.hcl", Line: 1, Message: "w", Warning: true})
	}
	if got := ws.capped(); len(got) != 51 || got[50].String() != "t.hcl: warning: and 10 more warnings not listed" {
		t.Errorf("warnings capped: %v", got[50])
	}
}

// TestLoadRefusesBigFileUnread: Load refuses a file over MaxFileSize without reading it all.
func TestLoadRefusesBigFileUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.hcl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil { // sparse: 1 TiB that takes no disk
		t.Fatalf("make a sparse 1 TiB file: %v", err)
	}
	f.Close()
	_, err = Load(path)
	checkDiags(t, err, []string{path + ": file is larger than 16 MiB: not a configuration, refused before parsing"})
}
