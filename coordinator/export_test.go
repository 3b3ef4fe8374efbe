package coordinator

// SetPackFault makes packing call f between its steps ("packed",
// "switched", "deleted"); an error from f stops the work there, as a crash
// would.
func SetPackFault(c *Coordinator, f func(step string) error) {
	c.fault = func(s packStep) error { return f(string(s)) }
}
