package lvs

// Read returns the kernel's whole IPVS table with its counters (not only what the
// reconciler owns), for status and metrics. It waits for a running Reconcile to finish, so
// the two never share the netlink socket.
func (r *Reconciler) Read() (Table, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kernel.Services()
}
