package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitItems(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"blocks", "a {\n}\nb {\n  x = 1\n}\n", []string{"a {\n}\n", "b {\n  x = 1\n}\n"}},
		{"comments go with the next block", "# one\n\n// two\na {}\n/* three\n} */\nb {}\n",
			[]string{"# one\n\n// two\na {}\n", "/* three\n} */\nb {}\n"}},
		{"comment after a block", "a {} # end\nb {} // end\n", []string{"a {} # end\n", "b {} // end\n"}},
		{"braces in strings", "a \"}\" {\n  x = \"{\\\"}\"\n  y = \"${\"}\"}\"\n}\nb {}\n",
			[]string{"a \"}\" {\n  x = \"{\\\"}\"\n  y = \"${\"}\"}\"\n}\n", "b {}\n"}},
		{"heredoc", "a {\n  x = <<EOT\n}\nb {\nEOT\n}\nb {}\n", []string{"a {\n  x = <<EOT\n}\nb {\nEOT\n}\n", "b {}\n"}},
		{"indented heredoc", "a {\n  x = <<-EOT\n  }\n  EOT\n}\n", []string{"a {\n  x = <<-EOT\n  }\n  EOT\n}\n"}},
		{"no final newline", "a {}\nb {}", []string{"a {}\n", "b {}"}},
		{"trailing comments", "a {}\n# bye\n", []string{"a {}\n", "# bye\n"}},
		{"unclosed", "a {\nb {}\n", []string{"a {\nb {}\n"}},
		{"crlf", "a {\r\n}\r\nb {}\r\n", []string{"a {\r\n}\r\n", "b {}\r\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			var got []string
			line := 1
			for _, it := range splitItems(src) {
				if it.line != line {
					t.Errorf("item %q starts at line %d, want %d", src[it.start:it.end], it.line, line)
				}
				line += bytes.Count(src[it.start:it.end], []byte{'\n'})
				got = append(got, string(src[it.start:it.end]))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// sameResult fails unless the item-by-item parse (through cache when not nil) and the
// one-piece parse of files give the same Config, positions included, or the same problems.
func sameResult(t *testing.T, files []File, st *loadState) {
	t.Helper()
	got, gotErr := parseFiles(files, st, true)
	want, wantErr := parseFiles(files, nil, false)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("item by item: %v\nin one piece: %v", gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("item by item and in one piece differ:\n%+v\n%+v", got, want)
	}
}

// TestItemsMatchWholeFile: every configuration of the tests and examples, good or bad,
// gives the same result parsed item by item as in one piece.
func TestItemsMatchWholeFile(t *testing.T) {
	for _, tc := range append(errorCases, warningCases...) {
		sameResult(t, []File{{Name: "t.hcl", Src: []byte(tc.src)}}, nil)
	}
	paths, _ := filepath.Glob("testdata/*.hcl")
	more, _ := filepath.Glob("../../examples/*/*.hcl")
	paths = append(paths, more...)
	if len(more) == 0 {
		t.Fatal("no example configurations found")
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, []File{{Name: p, Src: src}}, nil)
	}
}

func table(services, weight int) string {
	var b strings.Builder
	b.WriteString("global {\n  router_id = \"t\"\n}\n")
	for i := range services {
		fmt.Fprintf(&b, "\n# service %d\nvirtual_server \"10.0.%d.%d:80\" {\n  lb_algo = \"wrr\"\n  lb_kind = \"DR\"\n", i, i/250, i%250+1)
		for j := range 3 {
			w := 1
			if i == services/2 && j == 0 {
				w = weight
			}
			fmt.Fprintf(&b, "  real_server \"10.1.%d.%d:80\" {\n    weight = %d\n  }\n", i/250, i%250*3+j, w)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// TestLoaderReusesUnchangedItems: after an edit, a Loader decodes again only the edited
// item, and the result is the one-piece parse's, positions included, also when lines were
// added above unchanged items (their positions move).
func TestLoaderReusesUnchangedItems(t *testing.T) {
	var st loadState
	load := func(src string) {
		t.Helper()
		sameResult(t, []File{{Name: "big.hcl", Src: []byte(src)}}, &st)
	}
	load(table(40, 1))
	before := map[*cachedItem]bool{}
	for _, c := range st.items["big.hcl"] {
		before[c] = true
	}
	if len(before) != 41 {
		t.Fatalf("%d items cached, want 41", len(before))
	}
	load(table(40, 7))
	reused := 0
	for _, c := range st.items["big.hcl"] {
		if before[c] {
			reused++
		}
	}
	if reused != 40 || len(st.items["big.hcl"]) != 41 {
		t.Fatalf("one weight edited: %d of %d items reused, want 40 of 41", reused, len(st.items["big.hcl"]))
	}
	// Lines added at the top move every item; an error in the last block must be reported
	// at its new position, as by the one-piece parse.
	moved := "# a comment\n# and another\n\n" + table(40, 7)
	load(moved)
	// A problem found when the whole is built (a bad address) and one found in decoding
	// the item (an unknown attribute, which keeps the item out of the cache).
	load(strings.Replace(moved, `"10.0.0.40:80"`, `"10.0.0.400:80"`, 1))
	load(strings.Replace(moved, "\"10.0.0.39:80\" {\n  lb_algo", "\"10.0.0.39:80\" {\n  lb_algoo", 1))
	if len(st.items["big.hcl"]) != 40 {
		t.Fatalf("%d items cached, want 40 (the broken block is not kept)", len(st.items["big.hcl"]))
	}
	load(table(40, 7)) // and back: items move up again
}

// FuzzItems: arbitrary input parses the same item by item as in one piece, and loading a
// second version (after a NUL) through the cache filled by the first gives the one-piece
// result of the second.
func FuzzItems(f *testing.F) {
	for _, tc := range errorCases[:10] {
		f.Add([]byte(tc.src))
	}
	f.Add([]byte(table(3, 1) + "\x00" + "# moved\n" + table(3, 5)))
	f.Add([]byte("a {\n  x = <<EOT\n}\nEOT\n}\n\x00a {\n  x = <<EOT\n}\nEOT\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		first, second, _ := bytes.Cut(src, []byte{0})
		var st loadState
		sameResult(t, []File{{Name: "f.hcl", Src: first}}, &st)
		sameResult(t, []File{{Name: "f.hcl", Src: second}}, &st)
	})
}

// TestLoaderRebuildsWhatDependsOnOtherBlocks: a virtual server found unchanged is built
// again when what it depends on outside its block changed: the VIPs (a real server may not
// be one) and its scripts' files (a script made writable by others must be refused).
func TestLoaderRebuildsWhatDependsOnOtherBlocks(t *testing.T) {
	var st loadState
	load := func(src string) {
		t.Helper()
		sameResult(t, []File{{Name: "t.hcl", Src: []byte(src)}}, &st)
	}
	vs := `
virtual_server "10.0.0.1:80" {
  real_server "10.0.0.2:80" {}
}
`
	instance := `vrrp_instance "V" {
  interface = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["%s"]
}
`
	load(fmt.Sprintf(instance, "10.0.0.1") + vs)
	load(fmt.Sprintf(instance, "10.0.0.2") + vs) // now a real server is a VIP: refused
	load(fmt.Sprintf(instance, "10.0.0.1") + vs)

	script := filepath.Join(t.TempDir(), "up.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	withScript := strings.Replace(vs, "{}", fmt.Sprintf("{\n    notify_up = %q\n  }", script), 1)
	load(withScript)
	if err := os.Chmod(script, 0o777); err != nil {
		t.Fatal(err)
	}
	load(withScript)
	if _, err := parseFiles([]File{{Name: "t.hcl", Src: []byte(withScript)}}, &st, true); runsAsRoot("") && err == nil {
		t.Fatal("a world-writable notify_up script run as root was accepted on the second load")
	}
}

// TestLoaderSharesUnchangedServers: unchanged virtual servers come out of a Loader with
// the real server list of the previous load (Diff relies on it), an edited one does not.
func TestLoaderSharesUnchangedServers(t *testing.T) {
	var st loadState
	parse := func(src string) *Config {
		t.Helper()
		cfg, err := parseFiles([]File{{Name: "t.hcl", Src: []byte(src)}}, &st, true)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	a, b := parse(table(10, 1)), parse(table(10, 9))
	for i := range a.VirtualServers {
		same := &a.VirtualServers[i].RealServers[0] == &b.VirtualServers[i].RealServers[0]
		if same != (i != 5) {
			t.Errorf("virtual server %d: shared %v", i, same)
		}
	}
	if p := Diff(a, b); len(p.Changes) != 1 {
		t.Errorf("Diff: %v, want the one weight", p.Changes)
	}
}
