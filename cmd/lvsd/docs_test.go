package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every command, subcommand and flag of the table is in the man page and in each
// completion script: they are generated from the same definitions.
func TestManAndCompletionCoverEveryCommandAndFlag(t *testing.T) {
	code, man, errOut := runCLI("man")
	if code != 0 || errOut != "" {
		t.Fatalf("lvsd man: exit %d, stderr %q", code, errOut)
	}
	scripts := map[string]string{}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := runCLI("completion", sh)
		if code != 0 || errOut != "" || out == "" {
			t.Fatalf("lvsd completion %s: exit %d, stderr %q", sh, code, errOut)
		}
		scripts[sh] = out
	}
	docs := describe()
	seen := map[string]bool{}
	for _, d := range docs {
		seen[d.name] = true
	}
	for _, c := range commands() {
		if !seen[c.name] {
			t.Errorf("command %q not described", c.name)
		}
	}
	nflags := 0
	for _, d := range docs {
		if !strings.Contains(man, `.SS "lvsd `+roffText(d.name)) {
			t.Errorf("man page has no section for %q", d.name)
		}
		last := d.name[strings.LastIndexByte(d.name, ' ')+1:]
		for sh, s := range scripts {
			if !strings.Contains(s, last) {
				t.Errorf("%s completion lacks command %q", sh, d.name)
			}
		}
		for _, f := range d.flags() {
			nflags++
			if !strings.Contains(man, `\fB\-\-`+roffText(f.Name)+`\fR`) {
				t.Errorf("man page lacks flag --%s of %q", f.Name, d.name)
			}
			if !strings.Contains(scripts["bash"], "--"+f.Name) || !strings.Contains(scripts["zsh"], "--"+f.Name) {
				t.Errorf("bash or zsh completion lacks flag --%s of %q", f.Name, d.name)
			}
			if !strings.Contains(scripts["fish"], "-l "+f.Name+" ") {
				t.Errorf("fish completion lacks flag --%s of %q", f.Name, d.name)
			}
		}
	}
	if nflags < 5 || len(docs) < len(commands()) {
		t.Fatalf("described %d commands with %d flags: too few", len(docs), nflags)
	}

	// The scripts are valid for their shells, and the page for man.
	dir := t.TempDir()
	for sh, args := range map[string][]string{"bash": {"-n"}, "zsh": {"-n"}, "fish": {"--no-execute"}} {
		p := filepath.Join(dir, "lvsd."+sh)
		if err := os.WriteFile(p, []byte(scripts[sh]), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sh, append(args, p)...).CombinedOutput(); err != nil {
			t.Errorf("%s rejects its completion script: %v\n%s", sh, err, out)
		}
	}
	mp := filepath.Join(dir, "lvsd.8")
	os.WriteFile(mp, []byte(man), 0o644)
	var stderr strings.Builder
	cmd := exec.Command("man", "--warnings", "-l", mp)
	cmd.Env = append(os.Environ(), "MANWIDTH=80")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("man --warnings -l: %v\n%s", err, stderr.String())
	}
}

func roffText(s string) string { return strings.ReplaceAll(s, "-", `\-`) }

// The bash completion completes what a user types: commands, subcommands, flags, and
// the values of flags with a fixed set of values.
func TestBashCompletionCompletes(t *testing.T) {
	_, script, _ := runCLI("completion", "bash")
	p := filepath.Join(t.TempDir(), "lvsd.bash")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string // words typed; the last one is being completed
		want []string
		not  []string
	}{
		{"lvsd ", []string{"run", "status", "ipvs", "completion"}, []string{"--json"}},
		{"lvsd st", []string{"status"}, []string{"run"}},
		{"lvsd run --", []string{"--config", "--log-format"}, []string{"--json"}},
		{"lvsd run --log-format ", []string{"text", "json"}, []string{"--config"}},
		{"lvsd run --config /etc/lvsd --log-level ", []string{"debug", "warn"}, nil},
		{"lvsd run --config /etc/lvsd --", []string{"--socket"}, []string{"run"}},
		{"lvsd ipvs ", []string{"list", "save"}, nil},
		{"lvsd ipvs list --", []string{"--stats", "--exact"}, nil},
		{"lvsd completion ", []string{"bash", "zsh", "fish"}, nil},
		{"lvsd help ", []string{"run", "ipvs"}, nil},
	} {
		words := strings.Split(tc.line, " ")
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := "source " + p + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "; _lvsd; printf '%s\\n' \"${COMPREPLY[@]}\""
		out, err := exec.Command("bash", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, out)
		}
		got := " " + strings.Join(strings.Fields(string(out)), " ") + " "
		for _, w := range tc.want {
			if !strings.Contains(got, " "+w+" ") {
				t.Errorf("%q completes to%s: lacks %q", tc.line, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, " "+w+" ") {
				t.Errorf("%q completes to%s: should not offer %q", tc.line, got, w)
			}
		}
	}
}
