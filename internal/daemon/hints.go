package daemon

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// The failures an operator meets first (not root, a wrong interface name, the control
// socket's permissions) are explained with what to do, instead of the system call that
// failed.

// missingInterface explains a configured interface that is not on this host.
func missingInterface(what, name string) error {
	return fmt.Errorf("%s %q does not exist on this host ('ip link' lists the interfaces): fix the name in the configuration or create the interface", what, name)
}

// rawSocketError explains a VRRP socket that could not be opened.
func rawSocketError(iface string, err error) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("no permission to open the VRRP socket (raw IP protocol 112) on %s: run lvsd as root, or give it CAP_NET_RAW and CAP_NET_ADMIN (the systemd unit in dist/ does)", iface)
	}
	return err
}

// controlSocketError explains a control socket lvsd cannot create.
func controlSocketError(path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("control socket %s: permission denied: run lvsd as root, or set --socket (global.control_socket) to a path in a directory you can write", path)
	}
	return fmt.Errorf("control socket %s: %w", path, err)
}

// permissionDenied explains a control socket a client may not connect to.
func permissionDenied(socket string) error {
	return fmt.Errorf("permission denied on %s: the control socket is root's only (mode 0600); run the command as root (sudo)", socket)
}
