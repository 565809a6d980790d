package healthcheck

import (
	"slices"
	"time"
)

// DurationBuckets are the upper bounds, in seconds, of the check-duration histogram: from a
// loopback connect (well under a millisecond) to a check that runs into a 10 s timeout.
var DurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram counts how long checks took, for metrics: Buckets[i] is how many took at most
// DurationBuckets[i] seconds (cumulative, as Prometheus histograms are); Count and Sum
// cover every check, including those beyond the last bound.
type Histogram struct {
	Count   uint64   `json:"count"`
	Sum     float64  `json:"sum_seconds"`
	Buckets []uint64 `json:"buckets"`
}

// Observe adds one check duration.
func (h *Histogram) Observe(d time.Duration) {
	if h.Buckets == nil {
		h.Buckets = make([]uint64, len(DurationBuckets))
	}
	s := d.Seconds()
	h.Count++
	h.Sum += s
	for i, le := range DurationBuckets {
		if s <= le {
			h.Buckets[i]++
		}
	}
}

// Clone returns a copy that does not share the bucket counts.
func (h Histogram) Clone() Histogram {
	h.Buckets = slices.Clone(h.Buckets)
	return h
}
