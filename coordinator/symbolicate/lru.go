package symbolicate

import (
	"container/list"
	"sync"
)

// mapCache is an LRU of parsed maps bounded by their approximate size in
// bytes. Maps that failed to parse are cached too (with a small size), so a
// broken upload costs one read, not one per event.
type mapCache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	order *list.List // front = most recently used
	items map[string]*list.Element
}

type cacheEntry struct {
	key  string
	m    *Map
	err  error
	size int64
}

func newMapCache(max int64) *mapCache {
	return &mapCache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *mapCache) get(key string) (*Map, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, nil, false
	}
	c.order.MoveToFront(el)
	e := el.Value.(*cacheEntry)
	return e.m, e.err, true
}

// add caches m (or err) under key, evicting the least recently used entries
// until the total fits. An entry larger than the whole budget is not kept.
func (c *mapCache) add(key string, m *Map, err error) {
	size := int64(256)
	if m != nil {
		size = m.Size()
	} else if err != nil {
		size += int64(len(err.Error()))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.used -= el.Value.(*cacheEntry).size
		c.order.Remove(el)
		delete(c.items, key)
	}
	if size > c.max {
		return
	}
	for c.used+size > c.max {
		last := c.order.Back()
		e := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.items, e.key)
		c.used -= e.size
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, m: m, err: err, size: size})
	c.used += size
}

// bytes reports the cache's current size and entry count.
func (c *mapCache) bytes() (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, len(c.items)
}
