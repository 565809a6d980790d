package main

// The READMEs' command blocks are tested, so that a stranger copying them gets what they
// show. Conventions in README.md and examples/**/README.md:
//
//	```sh            runnable: executed as root in a network namespace of the test's own
//	                 (with a private /run), from the repository root, `lvsd` on PATH
//	```sh no-run     needs a real network or a director: every lvsd command and flag in it
//	                 must exist (checked against --help), every make target in the Makefile
//	```hcl file=F    the content of file F: written to a scratch directory for the samples
//	                 below, or, when F exists in the repository, equal to it
//	```text          a sample: when its first line is "$ lvsd ...", the rest is exactly
//	                 what that command prints (run in the scratch directory)

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/netns"
)

const repoRoot = "../.."

// mdBlock is one fenced code block.
type mdBlock struct {
	file  string // README path, relative to the repository root
	line  int    // of the opening fence
	lang  string
	noRun bool
	name  string // file=NAME
	text  string
}

func (b mdBlock) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var fence = regexp.MustCompile("^\\s*```(.*)$")

func readmeBlocks(t *testing.T) []mdBlock {
	t.Helper()
	files := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join(repoRoot, "examples", "*", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "examples/README.md")
	for _, m := range more {
		rel, _ := filepath.Rel(repoRoot, m)
		files = append(files, filepath.ToSlash(rel))
	}
	var out []mdBlock
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		var cur *mdBlock
		var body []string
		indent := "" // of the opening fence: blocks inside list items are indented
		for i, line := range strings.Split(string(b), "\n") {
			m := fence.FindStringSubmatch(line)
			switch {
			case m != nil && cur == nil:
				words := strings.Fields(m[1])
				cur = &mdBlock{file: f, line: i + 1}
				indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
				if len(words) > 0 {
					cur.lang = words[0]
				}
				for _, w := range words[min(1, len(words)):] {
					switch {
					case w == "no-run":
						cur.noRun = true
					case strings.HasPrefix(w, "file="):
						cur.name = strings.TrimPrefix(w, "file=")
					default:
						t.Errorf("%s: unknown code block attribute %q", cur.where(), w)
					}
				}
				body = nil
			case m != nil:
				cur.text = strings.Join(body, "\n") + "\n"
				out = append(out, *cur)
				cur = nil
			case cur != nil:
				body = append(body, strings.TrimPrefix(line, indent))
			}
		}
		if cur != nil {
			t.Errorf("%s: unterminated code block", cur.where())
		}
	}
	return out
}

// commandLines returns the shell command lines of a block (comments and blank lines
// dropped); for a text sample, only its "$ " line.
func commandLines(b mdBlock) []string {
	var out []string
	for _, l := range strings.Split(b.text, "\n") {
		if b.lang == "text" {
			if cmd, ok := strings.CutPrefix(l, "$ "); ok {
				out = append(out, cmd)
			}
			continue
		}
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestReadmeCommandsExist: every sh block parses (bash -n), every lvsd command, subcommand
// and flag in a README's command blocks exists, and every make target is in the Makefile.
func TestReadmeCommandsExist(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "sh" && b.lang != "text" {
			continue
		}
		if b.lang == "sh" {
			syntax := exec.Command("bash", "-n")
			syntax.Stdin = strings.NewReader(b.text)
			if out, err := syntax.CombinedOutput(); err != nil {
				t.Errorf("%s: bash -n: %v\n%s", b.where(), err, out)
			}
		}
		for _, line := range commandLines(b) {
			words := strings.Fields(line)
			if len(words) > 0 && words[0] == "sudo" {
				words = words[1:]
			}
			if len(words) == 0 {
				continue
			}
			switch {
			case words[0] == "make":
				for _, target := range words[1:] {
					if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `:`).Match(makefile) {
						t.Errorf("%s: make %s: no such target in the Makefile", b.where(), target)
					}
				}
				checked++
			case filepath.Base(words[0]) == "lvsd":
				checkLvsdLine(t, b, words[1:])
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d command lines found in the READMEs: is the parser broken?", checked)
	}
}

func checkLvsdLine(t *testing.T, b mdBlock, args []string) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: lvsd without a command", b.where())
		return
	}
	name := []string{args[0]}
	code, help, _ := runCLI(args[0], "--help")
	if code != 0 {
		t.Errorf("%s: lvsd %s: no such command", b.where(), args[0])
		return
	}
	rest := args[1:]
	if strings.Contains(help, "Subcommands:") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name = append(name, rest[0])
		if code, help, _ = runCLI(append(name, "--help")...); code != 0 {
			t.Errorf("%s: lvsd %s: no such subcommand", b.where(), strings.Join(name, " "))
			return
		}
		rest = rest[1:]
	}
	for _, w := range rest {
		if !strings.HasPrefix(w, "-") {
			continue
		}
		flag, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !strings.Contains(help, "\n  -"+flag+" ") && !strings.Contains(help, "\n  -"+flag+"\n") {
			t.Errorf("%s: lvsd %s: no flag --%s", b.where(), strings.Join(name, " "), flag)
		}
	}
}

// TestReadmeSamples: each "$ lvsd ..." sample prints exactly what the README shows, and
// each file= block naming a repository file shows that file as it is.
func TestReadmeSamples(t *testing.T) {
	scratch := map[string]string{} // README -> its scratch directory
	samples := 0
	for _, b := range readmeBlocks(t) {
		dir, ok := scratch[b.file]
		if !ok {
			dir = t.TempDir()
			scratch[b.file] = dir
		}
		switch {
		case b.name != "":
			if repoFile, err := os.ReadFile(filepath.Join(repoRoot, b.name)); err == nil {
				if string(repoFile) != b.text {
					t.Errorf("%s: block file=%s differs from the repository's %s", b.where(), b.name, b.name)
				}
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, b.name), []byte(b.text), 0o644); err != nil {
				t.Fatal(err)
			}
		case b.lang == "text" && strings.HasPrefix(b.text, "$ lvsd "):
			samples++
			cmd, want, _ := strings.Cut(b.text, "\n")
			var out bytes.Buffer
			t.Chdir(dir) // restored when the test ends
			dispatch(strings.Fields(strings.TrimPrefix(cmd, "$ lvsd ")), &out, &out)
			if got := out.String(); got != want {
				t.Errorf("%s: %s prints:\n%s\nthe README shows:\n%s", b.where(), cmd, got, want)
			}
		}
	}
	if samples == 0 {
		t.Error("no \"$ lvsd\" sample found in the READMEs")
	}
}

// TestReadmeRunnableBlocks runs every ```sh block (root): in a network namespace made by
// the test, with a private /run, from the repository root, with a freshly built lvsd first
// on PATH. A block fails on its first failing command.
func TestReadmeRunnableBlocks(t *testing.T) {
	netns.RequireRoot(t, testing.Short())
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "lvsd"), "./cmd/lvsd")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lab := netns.New(t)
	lab.IfName = lab.Prefix
	ran := 0
	for i, b := range readmeBlocks(t) {
		if b.lang != "sh" || b.noRun {
			continue
		}
		ran++
		// A host of its own per block, with a real IP as a server would have.
		h := lab.MustAddHost(t, fmt.Sprintf("b%d", i), "198.51.100.10/24")
		script := filepath.Join(t.TempDir(), "block.sh")
		if err := os.WriteFile(script, []byte(b.text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", h.NS, "unshare", "--mount", "--propagation", "private",
			"sh", "-c", `mount -t tmpfs lvsd-readme /run && exec bash -euo pipefail "$0"`, script)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: block failed: %v\n%s\n--- output:\n%s", b.where(), err, b.text, out)
		}
	}
	if ran == 0 {
		t.Error("no runnable ```sh block found in the READMEs")
	}
}
