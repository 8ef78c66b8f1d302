package exporter

// SetChunk makes exports read n customers a round, until the returned func runs.
func SetChunk(n int) func() {
	old := chunk
	chunk = n
	return func() { chunk = old }
}
