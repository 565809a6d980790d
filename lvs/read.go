package lvs

// Read returns the kernel's whole IPVS table with its counters (not only what the
// reconciler owns), for status and metrics. It does not wait for a running pass: every
// Kernel serializes its own calls, so a read falls between two of the pass's batches
// (at most 4,096 operations) instead of waiting for the whole pass, which takes tens of
// seconds when the table is first applied.
func (r *Reconciler) Read() (Table, error) {
	return r.kernel.Services()
}
