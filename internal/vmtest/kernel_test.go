package vmtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadOrderFromModulesDep(t *testing.T) {
	dep := `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/fs/netfs/netfs.ko:
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/net/9p/9pnet.ko:
kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
`
	m, err := parseModDep(strings.NewReader(dep), strings.NewReader("kernel/fs/netfs/netfs.ko\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.loadOrder([]string{"virtio_pci", "9pnet_virtio", "9p"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"kernel/drivers/virtio/virtio_ring.ko",
		"kernel/drivers/virtio/virtio.ko",
		"kernel/drivers/virtio/virtio_pci_modern_dev.ko",
		"kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
		"kernel/drivers/virtio/virtio_pci.ko",
		"kernel/net/9p/9pnet.ko",
		"kernel/net/9p/9pnet_virtio.ko.xz",
		"kernel/fs/fscache/fscache.ko", // netfs is built in: skipped
		"kernel/fs/9p/9p.ko",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("load order\n got %q\nwant %q", got, want)
	}
	if _, err := m.loadOrder([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown module: err = %v", err)
	}
}

func TestFindKernelPicksNewestWithIPVS(t *testing.T) {
	dir := t.TempDir()
	boot, mods := filepath.Join(dir, "boot"), filepath.Join(dir, "modules")
	for _, v := range []string{"6.1.0-9-amd64", "6.1.0-56-amd64", "6.18.44-host"} {
		if err := os.MkdirAll(boot, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(boot, "vmlinuz-"+v), []byte("k"), 0o644); err != nil {
			t.Fatal(err)
		}
		sub := "kernel/net/netfilter/ipvs"
		if v == "6.18.44-host" {
			sub = "kernel/net/core" // the host's kernel: no IPVS
		}
		if err := os.MkdirAll(filepath.Join(mods, v, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	k, err := FindKernel(boot, mods)
	if err != nil {
		t.Fatal(err)
	}
	if k.Version != "6.1.0-56-amd64" {
		t.Errorf("picked %s, want 6.1.0-56-amd64", k.Version)
	}
	_, err = FindKernel(filepath.Join(dir, "empty"), mods)
	if err == nil || !strings.Contains(err.Error(), "linux-image-amd64") {
		t.Errorf("no kernel: err = %v, want a hint naming linux-image-amd64", err)
	}
}
