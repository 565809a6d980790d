package config

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Script security, as keepalived's enable_script_security: a script that runs as root must
// not be replaceable by anyone else, so neither the file nor any directory above it may be
// owned or writable by a non-root user (a sticky directory such as /tmp is fine: others
// cannot replace what root put there). validate checks the config, not the machine: a
// script that does not exist here is not checked.

// runsAsRoot says whether a script run as user (a name or uid; "" = root) runs as root.
func runsAsRoot(user string) bool {
	return user == "" || user == "root" || user == "0"
}

// checkScriptSecurity reports (error, or warning with enable_script_security = false) a
// root-run script that others could replace. a is the attribute that names it.
func (s *sink) checkScriptSecurity(a *rawAttr, prog, user string) {
	if !runsAsRoot(user) {
		return
	}
	why := insecureScript(prog)
	if why == "" {
		return
	}
	if s.scripts.secure {
		s.errAt(a.Range, "%s: %s would run as root but %s; fix: chown root and chmod go-w, or run it as another user (global script_user, or user in vrrp_script), or set enable_script_security = false in global", a.Name, prog, why)
	} else {
		s.warnAt(a.Range, "%s: %s runs as root but %s (enable_script_security = false)", a.Name, prog, why)
	}
}

// insecureScript says why prog is unsafe to run as root, or "" when it is safe or does
// not exist on this machine.
func insecureScript(prog string) string {
	path := prog
	if !strings.Contains(prog, "/") {
		p, err := exec.LookPath(prog)
		if err != nil {
			return ""
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	// The path as written: a directory on the way could be used to swap a symlink.
	if why := insecureDirs(filepath.Dir(abs)); why != "" {
		return why
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "" // does not exist here
	}
	if why := insecureEntry(real, false); why != "" {
		return why
	}
	return insecureDirs(filepath.Dir(real))
}

// insecureDirs checks dir and every directory above it.
func insecureDirs(dir string) string {
	for {
		if why := insecureEntry(dir, true); why != "" {
			return why
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

func insecureEntry(path string, dir bool) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	kind := "file"
	if dir {
		kind = "directory"
	}
	mode := fi.Mode()
	sticky := dir && mode&fs.ModeSticky != 0
	switch {
	case st.Uid != 0:
		return fmt.Sprintf("%s %s is owned by uid %d", kind, path, st.Uid)
	case sticky:
		return ""
	case mode.Perm()&0o002 != 0:
		return fmt.Sprintf("%s %s is writable by every user (mode %04o)", kind, path, mode.Perm())
	case mode.Perm()&0o020 != 0 && st.Gid != 0:
		return fmt.Sprintf("%s %s is writable by group %d (mode %04o)", kind, path, st.Gid, mode.Perm())
	}
	return ""
}
