package convert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// preprocess runs src (as file NAME in a scratch directory, with extra files beside it)
// through the preprocessor and returns its lines as "LINE: TEXT" and its diagnostics.
func preprocess(t *testing.T, src string, files map[string]string) ([]string, []Diag) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &preprocessor{configID: "a", env: func(k string) string { return "env-" + k }, defs: map[string][]string{}}
	p.readFile(main, Pos{}, 0)
	var out []string
	for _, l := range p.out {
		out = append(out, strings.TrimPrefix(l.Pos.String(), dir+"/")+": "+l.Text)
	}
	for i := range p.diags {
		p.diags[i].Pos.File = strings.TrimPrefix(p.diags[i].Pos.File, dir+"/")
		p.diags[i].Message = strings.ReplaceAll(p.diags[i].Message, dir+"/", "")
	}
	return out, p.diags
}

func TestPreprocess(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   string
		files map[string]string
		want  []string
		diags []string
	}{
		{name: "comments and escapes",
			src:  "a 1 # comment\n! whole line\nb \"x # y\" ! more\nc \\#hash\n",
			want: []string{"keepalived.conf:1: a 1", `keepalived.conf:3: b "x # y"`, "keepalived.conf:4: c #hash"}},
		{name: "conditional lines",
			src:  "@a x 1\n@b x 2\n@^a y 1\n@^b y 2\n",
			want: []string{"keepalived.conf:1: x 1", "keepalived.conf:4: y 2"}},
		{name: "parameters",
			src: "$A=1\n$B=${A}0\nv $A\nw ${B}x\nu $Ax\nz ${UNDEF} $UNDEF\n@a $C=yes\nc $C\n$IF=@b\n$IF never\n",
			want: []string{"keepalived.conf:3: v 1", "keepalived.conf:4: w 10x", "keepalived.conf:5: u $Ax",
				"keepalived.conf:6: z ${UNDEF} $UNDEF", "keepalived.conf:8: c yes"}},
		{name: "predefined",
			src:   "a ${_HASH}${_BANG} ${_INSTANCE} ${_ENV HOME}\n",
			want:  []string{"keepalived.conf:1: a #! a env-HOME"},
			diags: []string{`keepalived.conf:1: ${_ENV HOME}: replaced by this machine's value "env-HOME" at conversion time`}},
		{name: "multi-line definition, definitions inside it in order",
			src:  "$RS= \\\nreal_server 10.0.0.$N 80 { \\\n  weight $N \\\n}\n$N=1\n$RS\n$N=2\n$RS\n",
			want: []string{"keepalived.conf:6: real_server 10.0.0.1 80 {", "keepalived.conf:6: weight 1", "keepalived.conf:6: }", "keepalived.conf:8: real_server 10.0.0.2 80 {", "keepalived.conf:8: weight 2", "keepalived.conf:8: }"}},
		{name: "sequences and lists",
			src:  "~SEQ(N, 1, 2, 5) a $N\n~SEQx(H, 10, 11) b ${H}\n~LST({X, Y}, {1, 2}, {3, 4}) c ${X}-$Y\n",
			want: []string{"keepalived.conf:1: a 1", "keepalived.conf:1: a 3", "keepalived.conf:1: a 5", "keepalived.conf:2: b a", "keepalived.conf:2: b b", "keepalived.conf:3: c 1-2", "keepalived.conf:3: c 3-4"}},
		{name: "include relative to the including file, globs, braces, no match",
			src:   "include sub/*.conf\ninclude {x,y}.conf\ninclude none/*.conf\n",
			files: map[string]string{"sub/one.conf": "one\ninclude ../x.conf\n", "x.conf": "x\n", "y.conf": "y\n"},
			want:  []string{"sub/one.conf:1: one", "x.conf:1: x", "x.conf:1: x", "y.conf:1: y"},
			diags: []string{"keepalived.conf:3: include none/*.conf: no file matches"}},
		{name: "include of itself is bounded",
			src:   "a\ninclude keepalived.conf\n",
			diags: []string{"keepalived.conf:2: include: nested more than 8 levels deep"}},
		{name: "random refused",
			src:   "a ${_RANDOM 1 5}\n",
			diags: []string{"keepalived.conf:1: ${_RANDOM}: not supported by lvsd (a value chosen at each start cannot be written into a fixed configuration)"}},
		{name: "self-referencing parameter is bounded",
			src:   "$A=${A}${A}\nx $A\n",
			diags: []string{"keepalived.conf:2: parameter substitution"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := preprocess(t, tc.src, tc.files)
			if tc.want != nil && strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var ds []string
			for _, d := range diags {
				ds = append(ds, d.String())
			}
			if len(ds) != len(tc.diags) {
				t.Fatalf("diagnostics %q, want %q", ds, tc.diags)
			}
			for i := range ds {
				if !strings.HasPrefix(ds[i], tc.diags[i]) && !strings.Contains(ds[i], strings.TrimPrefix(tc.diags[i], "keepalived.conf:2: ")) {
					t.Errorf("diagnostic %q, want %q", ds[i], tc.diags[i])
				}
			}
		})
	}
}

func TestParseBraces(t *testing.T) {
	lines := []Line{
		{Pos: Pos{"f", 1}, Text: "vrrp_instance VI_1"},
		{Pos: Pos{"f", 2}, Text: "{"},
		{Pos: Pos{"f", 3}, Text: "virtual_ipaddress { 10.0.0.1 10.0.0.2 }"},
		{Pos: Pos{"f", 4}, Text: `notify_master "/bin/x 'a b'" root`},
		{Pos: Pos{"f", 5}, Text: "}"},
	}
	nodes, diags := parse(lines)
	if len(diags) != 0 || len(nodes) != 1 || !nodes[0].Block || len(nodes[0].Children) != 2 {
		t.Fatalf("nodes %+v diags %v", nodes, diags)
	}
	vip := nodes[0].Children[0]
	if !vip.Block || len(vip.Children) != 1 || vip.Children[0].Text() != "10.0.0.1 10.0.0.2" {
		t.Errorf("virtual_ipaddress %+v", vip)
	}
	cmd, extra := script(nodes[0].Children[1])
	if cmd != "/bin/x 'a b'" || len(extra) != 1 || extra[0] != "root" {
		t.Errorf("script %q %q", cmd, extra)
	}

	_, diags = parse([]Line{{Pos: Pos{"f", 1}, Text: "a {"}, {Pos: Pos{"f", 2}, Text: "}"}, {Pos: Pos{"f", 3}, Text: "}"}, {Pos: Pos{"f", 4}, Text: "b {"}})
	if len(diags) != 2 || diags[0].String() != "f:3: '}' without a block to close" || diags[1].String() != "f:4: '{' of b is never closed" {
		t.Errorf("diags %v", diags)
	}
}
