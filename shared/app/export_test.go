package app

// SetBeforeFinalize installs a fault hook that runs after the push and
// before the final transaction (a crash after push, for tests).
func SetBeforeFinalize(p *Publications, f func(taskID int64) error) { p.beforeFinalize = f }

// ListCacheStats reports the advisory list cache's hits, misses and
// entries.
func ListCacheStats(s *Advisories) (hits, misses, entries int) { return s.lists.stats() }
