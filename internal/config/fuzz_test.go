package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through the whole pipeline (parse, decode, validate):
// it must never panic, and a failure must always be a non-empty Diagnostics whose lines
// are all positioned in the file.
func FuzzLoad(f *testing.F) {
	// Small seeds only: the engine minimizes every new interesting input, and minimizing
	// the 3 KB full.hcl takes longer than the Makefile's 30 s fuzz run.
	for _, tc := range append(errorCases, warningCases...) {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse("fuzz.hcl", src)
		if err != nil {
			var ds Diagnostics
			if !errors.As(err, &ds) || len(ds) == 0 || len(ds) > MaxDiagnostics+1 {
				t.Fatalf("error is not a non-empty Diagnostics of at most %d lines: %#v", MaxDiagnostics+1, err)
			}
			for _, d := range ds {
				if d.File != "fuzz.hcl" || d.Message == "" || strings.Contains(d.Message, "\n") {
					t.Fatalf("bad diagnostic %#v", d)
				}
			}
			return
		}
		_ = cfg.Summary()
	})
}

// FuzzParseFiles splits each input at NUL bytes into up to three files merged as one
// configuration (duplicates across files, the shared token budget), and checks the bounds:
// never a panic, never more than MaxDiagnostics lines plus the "and N more" line, every
// diagnostic in one of the files, and Count at least the number of lines.
func FuzzParseFiles(f *testing.F) {
	f.Add([]byte("global {}\x00global {}"))
	f.Add([]byte("vrrp_instance \"V\" {\n interface = \"eth0\"\n virtual_router_id = 1\n}\x00vrrp_instance \"V\" {}\x00x"))
	f.Add([]byte("virtual_server \"10.0.0.1:80\" {\x00}\x00real_server \"x\" {}"))
	f.Add([]byte(strings.Repeat("bogus {}\n", 60) + "\x00" + strings.Repeat("[", 70)))
	f.Add([]byte("x = \"\xff\"\x00y = 1e400"))
	f.Fuzz(func(t *testing.T, src []byte) {
		var files []File
		names := map[string]bool{}
		for i, part := range bytes.SplitN(src, []byte{0}, 3) {
			n := fmt.Sprintf("f%d.hcl", i)
			files = append(files, File{Name: n, Src: part})
			names[n] = true
		}
		cfg, err := ParseFiles(files)
		if err == nil {
			if len(cfg.Warnings) > MaxDiagnostics+1 {
				t.Fatalf("%d warnings listed", len(cfg.Warnings))
			}
			_ = cfg.Summary()
			return
		}
		var ds Diagnostics
		if !errors.As(err, &ds) || len(ds) == 0 || len(ds) > MaxDiagnostics+1 || ds.Count() < len(ds) {
			t.Fatalf("bad diagnostics (%d lines): %v", len(ds), err)
		}
		for _, d := range ds {
			if !names[d.File] || d.Message == "" || strings.Contains(d.Message, "\n") {
				t.Fatalf("bad diagnostic %#v", d)
			}
		}
	})
}
