package realserver

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"slices"
)

// Host is the kernel as setup and teardown see it.
type Host interface {
	Reader
	Applier
}

// Gather reads the links and the settings o needs, plus extra keys (the ones a teardown
// restores).
func Gather(r Reader, o Options, extra []string) (Facts, error) {
	links, err := r.Links()
	if err != nil {
		return Facts{}, err
	}
	f := Facts{Links: links, Sysctls: map[string]string{}}
	keys := extra
	for _, s := range Settings(o, RIPInterfaces(o, f)) {
		keys = append(keys, s.Key)
	}
	for _, k := range keys {
		v, err := r.ReadSysctl(k)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Facts{}, err
		}
		f.Sysctls[k] = v
	}
	return f, nil
}

// Setup brings the host to what o needs, recording in statePath what it changed. With
// modprobe, a missing tunl0 (TUN) is fixed by loading ipip. Each change is printed to w.
// The state is written before the changes are made, so that a teardown after a failure
// half-way still undoes what was done.
func Setup(h Host, o Options, statePath string, modprobe bool, w io.Writer) error {
	prev, err := LoadState(statePath)
	if err != nil {
		return err
	}
	f, err := Gather(h, o, nil)
	if err != nil {
		return err
	}
	if _, ok := f.link(TunnelDev); o.Mode == ModeTUN && !ok {
		if !modprobe {
			return fmt.Errorf("no %s interface and module loading is off: load ipip first; nothing changed", TunnelDev)
		}
		c := Change{Kind: LoadModule, Key: "ipip"}
		if err := h.Apply(c); err != nil {
			return fmt.Errorf("no %s interface: %w (the kernel needs CONFIG_NET_IPIP); nothing changed", TunnelDev, err)
		}
		fmt.Fprintln(w, c)
		if f, err = Gather(h, o, nil); err != nil {
			return err
		}
	}
	changes, next, err := PlanSetup(o, f, prev)
	if err != nil {
		return fmt.Errorf("%w; nothing changed", err)
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "nothing to change: the real server is set up")
		return nil
	}
	if err := SaveState(statePath, next); err != nil {
		return fmt.Errorf("%w; nothing changed", err)
	}
	return apply(h, changes, w)
}

// Teardown undoes what setup recorded in statePath (only vips' addresses when vips is not
// empty; see PlanTeardown).
func Teardown(h Host, vips []netip.Addr, statePath string, w io.Writer) error {
	prev, err := LoadState(statePath)
	if err != nil {
		return err
	}
	for _, v := range vips {
		if !slices.ContainsFunc(prev.Addresses, func(a Address) bool { return a.Prefix.Addr() == v }) {
			fmt.Fprintf(w, "%v: not added by setup, left alone\n", v)
		}
	}
	f, err := Gather(h, Options{Mode: ModeDR}, sortedKeys(prev.Sysctls))
	if err != nil {
		return err
	}
	changes, next := PlanTeardown(vips, f, prev)
	if err := apply(h, changes, w); err != nil {
		return err
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "nothing to undo")
	}
	return SaveState(statePath, next)
}

// CheckHost gathers the facts and returns what is missing.
func CheckHost(r Reader, o Options) ([]Finding, error) {
	f, err := Gather(r, o, nil)
	if err != nil {
		return nil, err
	}
	var ls []Listener
	if len(o.Ports) > 0 {
		if ls, err = r.Listeners(); err != nil {
			return nil, err
		}
	}
	return Check(o, f, ls), nil
}

func apply(h Applier, changes []Change, w io.Writer) error {
	for _, c := range changes {
		if err := h.Apply(c); err != nil {
			return err
		}
		fmt.Fprintln(w, c)
	}
	return nil
}
