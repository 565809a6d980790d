package vmtest

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Guest-side paths. The results share is mounted inside the chroot under /run (a tmpfs),
// so it is reachable whatever the host path of the run directory is.
const (
	guestShare    = "/run/vmtest"
	hostRootTag   = "hostroot"
	resultsTag    = "vmtestout"
	outputFile    = "output.log"
	exitCodeFile  = "exitcode"
	stage2File    = "stage2.sh"
	payloadFile   = "payload.sh"
	markerStart   = "vmtest: payload start"
	markerPayload = "vmtest: payload exit "
	hostTmp       = "/run/vmtest-hosttmp" // the host's /tmp (read-only), under the guest's own
)

// bootModules are inserted by the initramfs before the host root can be mounted.
var bootModules = []string{"virtio_pci", "9pnet_virtio", "9p"}

// DefaultModules are modprobed inside the chroot before the payload runs.
var DefaultModules = []string{
	"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc", "ip_vs_lblcr",
	"ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "ip_vs_mh", "ip_vs_fo", "ip_vs_ovf",
	"ipip", "veth", "bridge", "dummy",
}

// initScript is /init of the initramfs (busybox sh). It mounts the host root read-only over
// 9p, makes it a usable system (fresh proc/sys/dev, tmpfs on /run and /tmp), runs stage 2 in
// a chroot and powers off. /sbin/modprobe of the initramfs forwards to the host's modprobe
// in the chroot, so modules the kernel requests itself (nf_tables, ...) are found.
func initScript(modules []string) string {
	var b strings.Builder
	b.WriteString(`#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
die() { echo "vmtest: $*"; echo o > /proc/sysrq-trigger; sleep 30; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "vmtest: guest kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s"
`)
	for _, m := range modules {
		fmt.Fprintf(&b, "insmod /modules/%s || die \"insmod %s failed\"\n", m, m)
	}
	fmt.Fprintf(&b, `R=/mnt/root
mkdir -p $R
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose %[1]s $R || die "mount host root failed"
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
mount -t tmpfs tmpfs $R/run
mkdir -p $R%[5]s
mount -o bind $R/tmp $R%[5]s
mount -t tmpfs tmpfs $R/tmp
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
mkdir -p $R%[3]s
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 %[2]s $R%[3]s || die "mount results share failed"
chroot $R /bin/sh %[3]s/%[4]s
echo "vmtest: stage 2 exited $?"
sync
umount $R%[3]s
echo o > /proc/sysrq-trigger
sleep 30
`, hostRootTag, resultsTag, guestShare, stage2File, hostTmp)
	return b.String()
}

// modprobeWrapper replaces the initramfs' /sbin/modprobe (the kernel's usermode helper path).
const modprobeWrapper = `#!/bin/busybox sh
exec /bin/busybox chroot /mnt/root /sbin/modprobe "$@"
`

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// stage2Script runs inside the chroot: environment, modprobe, the payload with its output
// going both to the console (streamed by the host) and to the results share, then the exit
// code as a file (written last, so its presence means the payload finished).
func stage2Script(spec Spec) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	env := map[string]string{
		"PATH":   "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin",
		"HOME":   "/tmp",
		"TMPDIR": "/tmp",
		"LANG":   "C.UTF-8",
	}
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(env[k]))
	}
	mods := spec.Modules
	if mods == nil {
		mods = DefaultModules
	}
	if len(mods) > 0 {
		fmt.Fprintf(&b, "modprobe -a %s || echo 'vmtest: modprobe failed'\n", strings.Join(mods, " "))
	}
	b.WriteString("ip link set lo up\n")
	// The guest's tmpfs on /tmp hides the host's /tmp (init keeps it at hostTmp): the
	// directories under /tmp that the payload needs are bind-mounted back at their own paths.
	for _, d := range hostTmpDirs(spec) {
		fmt.Fprintf(&b, "mkdir -p %[1]s && mount --bind %[2]s/%[3]s %[1]s || echo vmtest: cannot bind the host directory %[1]s\n",
			shellQuote(d), hostTmp, shellQuote(strings.TrimPrefix(d, "/tmp/")))
	}
	if spec.Dir != "" {
		fmt.Fprintf(&b, "cd %s || exit 125\n", shellQuote(spec.Dir))
	}
	var run string
	if spec.Script != "" {
		run = "/bin/sh " + guestShare + "/" + payloadFile
	} else {
		q := []string{shellQuote(spec.Binary)}
		for _, a := range spec.Args {
			q = append(q, shellQuote(a))
		}
		run = strings.Join(q, " ")
	}
	fmt.Fprintf(&b, `echo '%[1]s'
{ %[2]s; echo $? > %[3]s/%[4]s.tmp; } 2>&1 | tee %[3]s/%[5]s
rc=$(cat %[3]s/%[4]s.tmp)
echo "%[6]s$rc"
mv %[3]s/%[4]s.tmp %[3]s/%[4]s
`, markerStart, run, guestShare, exitCodeFile, outputFile, markerPayload)
	return b.String()
}

// hostTmpDirs returns the top directories under the host's /tmp (e.g. /tmp/lvsd for
// /tmp/lvsd/bin/vmtest/e2e.test) of the payload binary and the working directory: the
// guest must see them through its own /tmp.
func hostTmpDirs(spec Spec) []string {
	var dirs []string
	for _, p := range []string{spec.Binary, spec.Dir} {
		rest, ok := strings.CutPrefix(filepath.Clean(p), "/tmp/")
		if !ok {
			continue
		}
		top := "/tmp/" + strings.Split(rest, "/")[0]
		if !slices.Contains(dirs, top) {
			dirs = append(dirs, top)
		}
	}
	return dirs
}
