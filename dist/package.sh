#!/bin/sh
# Builds lvsd's Debian and RPM packages from `make install` into a staging tree.
#
#   dist/package.sh version VERSION        print the package version for a git describe
#   dist/package.sh deb|rpm VERSION OUTDIR build bin/lvsd's package into OUTDIR
#
# Why dpkg-deb and rpmbuild rather than a packaging tool such as nfpm: both come from
# Debian packages (dpkg is on every Debian machine, rpmbuild is in package `rpm`), they are
# the reference builders of their formats, and they add nothing to go.mod: nfpm would pull
# some thirty modules into the build of every helper of this repository for two archives.
set -eu

# pkgversion turns `git describe --tags --always --dirty` into a version both dpkg and rpm
# order correctly: v1.2.0-3-gabc1234 -> 1.2.0+3.gabc1234; an untagged abc1234-dirty ->
# 0.0.0+git.abc1234.dirty. Neither format allows '-' inside the upstream version.
pkgversion() {
	v=${1#v}
	case $v in
	[0-9]*.*) printf '%s\n' "$v" | sed 's/-/+/; s/-/./g' ;;
	*) printf '0.0.0+git.%s\n' "$v" | sed 's/-/./g' ;;
	esac
}

# debarch maps Go's GOARCH to Debian's architecture names.
debarch() {
	case $1 in
	386) echo i386 ;;
	arm) echo armhf ;;
	ppc64le) echo ppc64el ;;
	*) echo "$1" ;;
	esac
}

# rpmarch maps GOARCH to RPM's.
rpmarch() {
	case $1 in
	amd64) echo x86_64 ;;
	arm64) echo aarch64 ;;
	386) echo i686 ;;
	arm) echo armv7hl ;;
	*) echo "$1" ;;
	esac
}

summary='VRRP failover and IPVS load balancing for LVS clusters'
description='lvsd does for Linux Virtual Server clusters what keepalived does, in one
binary: a VRRP router owns the virtual IP addresses, IPVS virtual services
are programmed over netlink and reconciled against the kernel, health
checkers add and remove real servers. Configuration is HCL with
keepalived'"'"'s keyword names.'

# stage installs into $1 with the given unit and zsh completion directories.
stage() {
	chmod 0755 "$1"
	make -s install DESTDIR="$1" PREFIX=/usr SYSCONFDIR=/etc UNITDIR="$2" ZSHCOMPDIR="$3"
	gzip -9n "$1/usr/share/man/man8/lvsd.8"
	mkdir -p "$1/usr/share/doc/lvsd"
	cp README.md docs/metrics.md dist/grafana-dashboard.json "$1/usr/share/doc/lvsd/"
}

cmd=$1
version=$(pkgversion "$2")
goarch=$(${GO:-go} env GOARCH)

case $cmd in
version)
	echo "$version"
	;;
deb)
	out=$3
	arch=$(debarch "$goarch")
	root=$(mktemp -d)
	trap 'rm -rf "$root"' EXIT
	stage "$root" /lib/systemd/system /usr/share/zsh/vendor-completions
	mkdir -p "$root/DEBIAN"
	echo /etc/lvsd/lvsd.hcl >"$root/DEBIAN/conffiles"
	{
		echo "Package: lvsd"
		echo "Version: $version"
		echo "Architecture: $arch"
		echo "Maintainer: lvsd developers <lvsd@example.org>"
		echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
		# localnode modes drive iptables; lvsd loads ip_vs with modprobe (kmod).
		echo "Depends: iptables, kmod"
		echo "Suggests: ipvsadm"
		echo "Section: net"
		echo "Priority: optional"
		echo "Description: $summary"
		printf '%s\n' "$description" | sed 's/^/ /'
	} >"$root/DEBIAN/control"
	mkdir -p "$out"
	deb="$out/lvsd_${version}_${arch}.deb"
	dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
	echo "$deb"
	;;
rpm)
	out=$3
	arch=$(rpmarch "$goarch")
	top=$(mktemp -d)
	trap 'rm -rf "$top"' EXIT
	mkdir "$top/stage"
	stage "$top/stage" /usr/lib/systemd/system /usr/share/zsh/site-functions
	files=$(cd "$top/stage" && find . -type f | sed 's|^\.||' | grep -v '^/etc/lvsd/lvsd.hcl$' | sort)
	cat >"$top/lvsd.spec" <<SPEC
Name: lvsd
Version: $version
Release: 1
Summary: $summary
License: NOASSERTION
BuildArch: $arch
Requires: iptables, kmod
%global debug_package %{nil}
%global __os_install_post %{nil}
%define _build_id_links none

%description
$description

%install
cp -a $top/stage/. %{buildroot}/

%files
%dir /etc/lvsd
%config(noreplace) /etc/lvsd/lvsd.hcl
$files
SPEC
	rpmbuild --quiet -bb --target "$arch" --define "_topdir $top/rpmbuild" "$top/lvsd.spec" >/dev/null
	mkdir -p "$out"
	for f in "$top"/rpmbuild/RPMS/*/*.rpm; do
		cp "$f" "$out/"
		echo "$out/$(basename "$f")"
	done
	;;
*)
	echo "usage: $0 version|deb|rpm VERSION [OUTDIR]" >&2
	exit 2
	;;
esac
