package vmtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Kernel is a bootable kernel image with its module tree on the host.
type Kernel struct {
	Version string // e.g. "6.1.0-56-amd64"
	Image   string // /boot/vmlinuz-<Version>
	Modules string // /lib/modules/<Version>
}

// errNoKernel names the package to install, since the host's own kernel is of no use here.
var errNoKernel = errors.New("no kernel with IPVS modules found: install the Debian package linux-image-amd64 (make deps)")

// FindKernel picks the newest /boot/vmlinuz-V whose /lib/modules/V has the IPVS modules.
// The host's running kernel is deliberately not preferred: it is the one lacking IPVS.
func FindKernel(bootDir, modulesDir string) (Kernel, error) {
	images, err := filepath.Glob(filepath.Join(bootDir, "vmlinuz-*"))
	if err != nil {
		return Kernel{}, fmt.Errorf("list kernels in %s: %w", bootDir, err)
	}
	var found []Kernel
	for _, img := range images {
		v := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		k := Kernel{Version: v, Image: img, Modules: filepath.Join(modulesDir, v)}
		if st, err := os.Stat(filepath.Join(k.Modules, "kernel/net/netfilter/ipvs")); err == nil && st.IsDir() {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return Kernel{}, fmt.Errorf("%w (looked for %s/vmlinuz-V with %s/V/kernel/net/netfilter/ipvs)", errNoKernel, bootDir, modulesDir)
	}
	sort.Slice(found, func(i, j int) bool { return versionLess(found[i].Version, found[j].Version) })
	k := found[len(found)-1]
	if f, err := os.Open(k.Image); err != nil {
		return Kernel{}, fmt.Errorf("kernel image %s is not readable (run as root): %w", k.Image, err)
	} else {
		f.Close()
	}
	return k, nil
}

// versionLess compares dotted/dashed versions numerically where both parts are numbers.
func versionLess(a, b string) bool {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea == nil && eb == nil && na != nb:
			return na < nb
		case (ea != nil || eb != nil) && pa[i] != pb[i]:
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

// modDep is the parsed content of modules.dep and modules.builtin.
type modDep struct {
	path    map[string]string   // module name -> path relative to the module tree
	deps    map[string][]string // module name -> names of direct and indirect dependencies
	builtin map[string]bool
}

// modName turns "kernel/fs/9p/9p.ko.xz" into "9p"; kernel treats - and _ alike.
func modName(path string) string {
	b := filepath.Base(path)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

// parseModDep reads modules.dep ("path: dep dep ...") and modules.builtin (one path a line).
func parseModDep(dep, builtin io.Reader) (*modDep, error) {
	m := &modDep{path: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{}}
	sc := bufio.NewScanner(dep)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("modules.dep: malformed line %q", line)
		}
		n := modName(p)
		m.path[n] = p
		for _, d := range strings.Fields(rest) {
			m.deps[n] = append(m.deps[n], modName(d))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read modules.dep: %w", err)
	}
	if builtin != nil {
		sc = bufio.NewScanner(builtin)
		for sc.Scan() {
			if s := strings.TrimSpace(sc.Text()); s != "" {
				m.builtin[modName(s)] = true
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read modules.builtin: %w", err)
		}
	}
	return m, nil
}

// loadOrder returns module paths to insert, dependencies first, each once; built-in modules
// are left out (nothing to insert).
func (m *modDep) loadOrder(want []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var visit func(n string, depth int) error
	visit = func(n string, depth int) error {
		n = strings.ReplaceAll(n, "-", "_")
		if seen[n] || m.builtin[n] {
			return nil
		}
		if depth > 64 {
			return fmt.Errorf("module %s: dependency loop", n)
		}
		p, ok := m.path[n]
		if !ok {
			return fmt.Errorf("module %s: not in modules.dep and not built in", n)
		}
		// modules.dep lists the closest dependency first; insert the farthest first.
		deps := m.deps[n]
		for i := len(deps) - 1; i >= 0; i-- {
			if err := visit(deps[i], depth+1); err != nil {
				return fmt.Errorf("%s needs %w", n, err)
			}
		}
		seen[n] = true
		out = append(out, p)
		return nil
	}
	for _, n := range want {
		if err := visit(n, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readModule returns an uncompressed .ko: busybox insmod cannot be relied on to decompress,
// so .ko.xz / .ko.zst / .ko.gz are expanded on the host (Debian 12 ships plain .ko).
func readModule(path string) ([]byte, error) {
	var tool string
	switch {
	case strings.HasSuffix(path, ".ko"):
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read module: %w", err)
		}
		return b, nil
	case strings.HasSuffix(path, ".xz"):
		tool = "xz"
	case strings.HasSuffix(path, ".zst"):
		tool = "zstd"
	case strings.HasSuffix(path, ".gz"):
		tool = "gzip"
	default:
		return nil, fmt.Errorf("module %s: unknown file type", path)
	}
	if _, err := exec.LookPath(tool); err != nil {
		return nil, fmt.Errorf("module %s is compressed and %s is missing: install the Debian package %s", path, tool, map[string]string{"xz": "xz-utils", "zstd": "zstd", "gzip": "gzip"}[tool])
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tool, "-dc", path)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return b, nil
}
