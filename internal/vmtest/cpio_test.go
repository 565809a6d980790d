package vmtest

import (
	"bytes"
	"strconv"
	"testing"
)

// readCpio is a minimal newc reader used to check the writer's framing.
func readCpio(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	align := func(n int) int { return (n + 3) &^ 3 }
	field := func(i int) uint32 {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("field %d at %d: %v", i, off, err)
		}
		return uint32(v)
	}
	for {
		if off+110 > len(b) {
			t.Fatalf("truncated header at %d", off)
		}
		if string(b[off:off+6]) != "070701" {
			t.Fatalf("bad magic %q at %d", b[off:off+6], off)
		}
		mode, size, rmaj, rmin, nsz := field(1), field(6), field(9), field(10), field(11)
		name := string(b[off+110 : off+110+int(nsz)-1])
		dataOff := align(off + 110 + int(nsz))
		e := cpioEntry{Name: name, Mode: mode, Data: b[dataOff : dataOff+int(size)], Major: rmaj, Minor: rmin}
		off = align(dataOff + int(size))
		if name == trailer {
			if off != len(b) {
				t.Fatalf("%d bytes after trailer", len(b)-off)
			}
			return out
		}
		out = append(out, e)
	}
}

func TestCpioRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := newCpioWriter(&buf)
	w.Dir("dev")
	w.CharDev("dev/console", 5, 1)
	w.File("init", 0o755, []byte("#!/bin/sh\necho hi\n"))
	w.File("odd", 0o644, []byte("x"))
	w.Symlink("bin/sh", "busybox")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, buf.Bytes())
	want := []struct {
		name  string
		mode  uint32
		data  string
		major uint32
		minor uint32
	}{
		{"dev", sIFDIR | 0o755, "", 0, 0},
		{"dev/console", sIFCHR | 0o600, "", 5, 1},
		{"init", sIFREG | 0o755, "#!/bin/sh\necho hi\n", 0, 0},
		{"odd", sIFREG | 0o644, "x", 0, 0},
		{"bin/sh", sIFLNK | 0o777, "busybox", 0, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Mode != w.mode || string(g.Data) != w.data || g.Major != w.major || g.Minor != w.minor {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestCpioRejectsAbsoluteName(t *testing.T) {
	w := newCpioWriter(&bytes.Buffer{})
	w.File("/init", 0o755, nil)
	if err := w.Close(); err == nil {
		t.Fatal("absolute name accepted")
	}
}
