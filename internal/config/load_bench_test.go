package config

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lvsd/lvsd/lvs"
)

// largestTable is keepalived's largest published configuration (2,277 virtual servers,
// 37,205 real servers) written as lvsd HCL, as the reload benchmark writes it.
func largestTable(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString("global {\n  reconcile_interval = 3600\n}\n")
	for _, s := range lvs.SyntheticTable(2277, 37205) {
		fmt.Fprintf(&b, "\nvirtual_server \"%s:%d\" {\n  protocol = \"TCP\"\n  lb_algo = %q\n  lb_kind = \"DR\"\n", s.Key.Addr, s.Key.Port, s.Scheduler)
		for _, d := range s.Destinations {
			fmt.Fprintf(&b, "  real_server \"%s:%d\" {\n    weight = %d\n  }\n", d.Addr, d.Port, d.Weight)
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// BenchmarkLoadLargestWhole: the whole file parsed in one piece (as before items).
func BenchmarkLoadLargestWhole(b *testing.B) {
	src := largestTable(b)
	for b.Loop() {
		if _, err := parseFiles([]File{{Name: "t.hcl", Src: src}}, nil, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadLargest: a first load, item by item.
func BenchmarkLoadLargest(b *testing.B) {
	src := largestTable(b)
	for b.Loop() {
		if _, err := Parse("t.hcl", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReloadLargestOneWeight: a Loader loads the table again after one weight changed.
func BenchmarkReloadLargestOneWeight(b *testing.B) {
	src := largestTable(b)
	edited := bytes.Replace(src, []byte("weight = 1\n"), []byte("weight = 2\n"), 1)
	var st loadState
	if _, err := parseFiles([]File{{Name: "t.hcl", Src: src}}, &st, true); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		next := src
		if i++; i%2 == 1 {
			next = edited
		}
		if _, err := parseFiles([]File{{Name: "t.hcl", Src: next}}, &st, true); err != nil {
			b.Fatal(err)
		}
	}
}
