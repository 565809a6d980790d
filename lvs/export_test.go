package lvs

// Fixtures of the internal tests, shared with the external test package lvs_test, whose
// tests use the lvstest fake kernel (which package lvs itself cannot import).
var (
	VIP       = vip
	RIP2      = rip2
	RIP3      = rip3
	Web       = web
	RS        = rs
	OpStrings = opStrings
)
