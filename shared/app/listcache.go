package app

import (
	"container/list"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// listCache keeps recent advisory-list pages, keyed by the list generation
// they were computed under, the subject and the filter (INV-PRIVACY-1).
// The generation advances in the same commit as any change to advisories,
// grants, group memberships or projects (migration 00010), so a page found
// under the generation the reader's own snapshot holds is exactly what the
// query would return in that snapshot: a cache hit never shows a revoked
// advisory nor misses a new one. Entries of older generations are never
// found again and age out of the LRU.
type listCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; values are *listEntry
	byKey map[string]*list.Element
	// hits and misses count lookups, for tests and diagnostics.
	hits, misses int
}

type listEntry struct {
	key  string
	page postgres.AdvisoryPage
}

// DefaultListCacheEntries bounds the list cache: a page holds at most
// postgres.MaxPageSize rows of a few hundred bytes, so the cache stays
// within tens of megabytes even when every entry is a full page.
const DefaultListCacheEntries = 1024

func newListCache(max int) *listCache {
	if max <= 0 {
		return nil
	}
	return &listCache{max: max, order: list.New(), byKey: make(map[string]*list.Element, max)}
}

// listKey identifies a page: generation, every field of the subject that
// visibility reads, and the normalized filter.
func listKey(gen int64, s access.Subject, f postgres.AdvisoryFilter) string {
	var b strings.Builder
	b.Grow(64 + 8*len(s.GroupIDs) + len(f.Q))
	b.WriteString(strconv.FormatInt(gen, 10))
	b.WriteByte('|')
	b.WriteString(strconv.FormatInt(s.UserID, 10))
	b.WriteByte('|')
	b.WriteString(strconv.FormatBool(s.Admin()))
	b.WriteString(strconv.FormatBool(s.Authenticated()))
	b.WriteByte('|')
	groups := slices.Clone(s.GroupIDs)
	slices.Sort(groups)
	for _, g := range slices.Compact(groups) {
		b.WriteString(strconv.FormatInt(g, 10))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(f.Page))
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(f.PageSize))
	b.WriteByte('|')
	b.WriteString(f.ProjectID)
	b.WriteByte('|')
	b.WriteString(string(f.State))
	b.WriteByte('|')
	b.WriteString(string(f.ReviewStatus))
	b.WriteByte('|')
	b.WriteString(f.Q) // last: free text cannot forge the fields before it
	return b.String()
}

// get returns a copy of the page under key.
func (c *listCache) get(key string) (postgres.AdvisoryPage, bool) {
	if c == nil {
		return postgres.AdvisoryPage{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		c.misses++
		return postgres.AdvisoryPage{}, false
	}
	c.hits++
	c.order.MoveToFront(el)
	p := el.Value.(*listEntry).page
	p.Items = slices.Clone(p.Items)
	return p, true
}

// put stores a copy of page under key, evicting the least recently used
// entry beyond the bound.
func (c *listCache) put(key string, page postgres.AdvisoryPage) {
	if c == nil {
		return
	}
	page.Items = slices.Clone(page.Items)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		el.Value.(*listEntry).page = page
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&listEntry{key: key, page: page})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*listEntry).key)
	}
}

// stats returns the hit and miss counts and the number of entries.
func (c *listCache) stats() (hits, misses, entries int) {
	if c == nil {
		return 0, 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.order.Len()
}
