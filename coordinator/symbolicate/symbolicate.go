package symbolicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Options tune a Symbolicator. Zero values pick the defaults.
type Options struct {
	// CacheBytes bounds the parsed maps kept in memory; default 256 MiB.
	CacheBytes int64
	// ContextLines is how many source lines either side of a resolved
	// position are returned; default 5, negative for none.
	ContextLines int
	// LookupTTL is how long the answer to "which map serves this bundle"
	// is remembered; default 30s. Unsuccessful lookups are remembered for
	// a fifth of it, so a fresh upload is picked up quickly.
	LookupTTL time.Duration
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Symbolicator resolves stack frames with uploaded source maps. It is safe
// for concurrent use.
type Symbolicator struct {
	store *sourcemap.Store
	opts  Options
	cache *mapCache

	mu       sync.Mutex
	lookups  map[lookupKey]lookup
	inflight map[string]*load
}

type lookupKey struct{ project, debugID, release, dist, url string }

type lookup struct {
	m       sourcemap.Map
	found   bool
	expires time.Time
}

type load struct {
	done chan struct{}
	m    *Map
	err  error
}

// maxLookups bounds the lookup cache; it is cleared when full.
const maxLookups = 1 << 16

// New returns a Symbolicator reading maps from store.
func New(store *sourcemap.Store, opts Options) *Symbolicator {
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 256 << 20
	}
	if opts.ContextLines == 0 {
		opts.ContextLines = 5
	}
	if opts.LookupTTL <= 0 {
		opts.LookupTTL = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Symbolicator{store: store, opts: opts, cache: newMapCache(opts.CacheBytes),
		lookups: map[lookupKey]lookup{}, inflight: map[string]*load{}}
}

// Symbolicate resolves every frame of e's stack for project. The result has
// one Frame per input frame, in order; unresolvable frames carry their
// minified position and an UnresolvedReason. The error is non-nil only when
// ctx ends, and the frames are still returned then.
func (s *Symbolicator) Symbolicate(ctx context.Context, project string, e *sdkproto.Error) ([]Frame, error) {
	if e == nil {
		return nil, nil
	}
	out := make([]Frame, len(e.Stack))
	// A stack has few distinct bundles: find and load each one once, and
	// classify each one's URL once.
	var bundles []bundle
	var origins []origin
	// One allocation for the stack's original positions, not one a frame.
	positions := make([]Position, len(e.Stack))
	for i := range e.Stack {
		s.frame(ctx, project, e, &out[i], e.Stack[i], &bundles, &origins, &positions[i])
	}
	return out, ctx.Err()
}

// bundle is the map chosen for one script URL of a stack.
type bundle struct {
	url    string
	meta   sourcemap.Map
	m      *Map
	reason string
}

// frame symbolicates f into *out, which is zero.
func (s *Symbolicator) frame(ctx context.Context, project string, e *sdkproto.Error, out *Frame, f sdkproto.Frame, bundles *[]bundle, origins *[]origin, pos *Position) {
	out.Frame = f
	switch {
	case f.URL == "" || !resolvable(f.URL):
		out.UnresolvedReason = "frame has no script URL"
	case f.Line <= 0:
		out.UnresolvedReason = "frame has no line number"
	case ctx.Err() != nil:
		out.UnresolvedReason = "symbolication cancelled"
	default:
		s.resolve(ctx, project, e, out, bundles, pos)
	}
	source := ""
	if out.Original != nil {
		source = out.Original.Source
	}
	var o *origin
	for i := range *origins {
		if (*origins)[i].url == f.URL {
			o = &(*origins)[i]
			break
		}
	}
	if o == nil {
		*origins = append(*origins, newOrigin(f.URL))
		o = &(*origins)[len(*origins)-1]
	}
	out.InApp = o.inApp(e.URL, source, out.Original != nil)
}

func (s *Symbolicator) resolve(ctx context.Context, project string, e *sdkproto.Error, out *Frame, bundles *[]bundle, into *Position) {
	var b *bundle
	for i := range *bundles {
		if (*bundles)[i].url == out.URL {
			b = &(*bundles)[i]
			break
		}
	}
	if b == nil {
		nb := bundle{url: out.URL}
		nb.meta, nb.reason = s.find(ctx, project, e, out.URL)
		if nb.reason == "" {
			m, err := s.parsed(ctx, nb.meta)
			if err != nil {
				nb.reason = err.Error()
			}
			nb.m = m
		}
		*bundles = append(*bundles, nb)
		b = &(*bundles)[len(*bundles)-1]
	}
	if b.reason != "" {
		out.UnresolvedReason = b.reason
		return
	}
	meta, m := b.meta, b.m
	pos, c, err := m.Resolve(out.Line, out.Column, s.opts.ContextLines)
	if err != nil {
		if errors.Is(err, ErrNoMapping) {
			out.UnresolvedReason = fmt.Sprintf("position %d:%d is not covered by source map %s", out.Line, out.Column, meta.Name)
		} else {
			out.UnresolvedReason = err.Error()
		}
		return
	}
	*into = pos
	out.Original = into
	out.Context = c
}

// find picks the map for a frame's bundle URL. reason is non-empty when
// none matches.
func (s *Symbolicator) find(ctx context.Context, project string, e *sdkproto.Error, frameURL string) (sourcemap.Map, string) {
	debugID := e.DebugIDs[frameURL]
	if debugID == "" {
		debugID = e.DebugIDs[stripQuery(frameURL)]
	}
	key := lookupKey{project, debugID, e.Release, e.Dist, frameURL}
	now := s.opts.Now()
	s.mu.Lock()
	l, ok := s.lookups[key]
	s.mu.Unlock()
	if !ok || now.After(l.expires) {
		m, found, err := s.lookup(ctx, project, debugID, e.Release, e.Dist, frameURL)
		if err != nil {
			s.opts.Logger.Warn("source map lookup", "project", project, "err", err)
			return sourcemap.Map{}, "source map lookup failed"
		}
		ttl := s.opts.LookupTTL
		if !found {
			ttl /= 5
		}
		l = lookup{m: m, found: found, expires: now.Add(ttl)}
		s.mu.Lock()
		if len(s.lookups) >= maxLookups {
			clear(s.lookups)
		}
		s.lookups[key] = l
		s.mu.Unlock()
	}
	if l.found {
		return l.m, ""
	}
	var why []string
	if debugID != "" {
		why = append(why, "debug id "+debugID)
	}
	if e.Release != "" {
		r := "release " + e.Release
		if e.Dist != "" {
			r += " dist " + e.Dist
		}
		why = append(why, r+" and URL "+tildePath(frameURL))
	}
	if len(why) == 0 {
		return sourcemap.Map{}, "no source map: the event has no release and the bundle no debug id"
	}
	return sourcemap.Map{}, "no source map for " + strings.Join(why, " or ")
}

func (s *Symbolicator) lookup(ctx context.Context, project, debugID, release, dist, frameURL string) (sourcemap.Map, bool, error) {
	try := func(m sourcemap.Map, err error) (sourcemap.Map, bool, error) {
		if errors.Is(err, sourcemap.ErrNotFound) {
			return m, false, nil
		}
		return m, err == nil, err
	}
	if debugID != "" {
		if m, ok, err := try(s.store.ByDebugID(ctx, project, debugID)); ok || err != nil {
			return m, ok, err
		}
	}
	cands := candidates(frameURL)
	mapCands := candidates(stripQuery(frameURL) + ".map")
	// The event's release first; maps uploaded without a release are the
	// fallback for projects that do not tag releases.
	type rel struct{ release, dist string }
	rels := []rel{{release, dist}}
	if release != "" || dist != "" {
		rels = append(rels, rel{"", ""})
	}
	for _, r := range rels {
		if m, ok, err := try(s.store.ByURL(ctx, project, r.release, r.dist, cands)); ok || err != nil {
			return m, ok, err
		}
	}
	for _, r := range rels {
		if m, ok, err := try(s.store.ByMapURL(ctx, project, r.release, r.dist, mapCands)); ok || err != nil {
			return m, ok, err
		}
	}
	// A sourceMappingURL need not be "<bundle>.map" (../maps/app.js.map):
	// an upload that recorded this bundle with its map's location, in any
	// release, says where to look.
	recorded, err := s.store.RecordedMapURL(ctx, project, cands)
	if errors.Is(err, sourcemap.ErrNotFound) {
		return sourcemap.Map{}, false, nil
	}
	if err != nil {
		return sourcemap.Map{}, false, err
	}
	recCands := slices.DeleteFunc(candidates(recorded), func(c string) bool { return slices.Contains(mapCands, c) })
	if len(recCands) == 0 {
		return sourcemap.Map{}, false, nil
	}
	for _, r := range rels {
		if m, ok, err := try(s.store.ByMapURL(ctx, project, r.release, r.dist, recCands)); ok || err != nil {
			return m, ok, err
		}
	}
	return sourcemap.Map{}, false, nil
}

// parsed returns the parsed map for meta from the cache, loading it once
// even when many events need it at the same time.
func (s *Symbolicator) parsed(ctx context.Context, meta sourcemap.Map) (*Map, error) {
	key := meta.SHA256
	if m, err, ok := s.cache.get(key); ok {
		return m, err
	}
	s.mu.Lock()
	if l, ok := s.inflight[key]; ok {
		s.mu.Unlock()
		select {
		case <-l.done:
			return l.m, l.err
		case <-ctx.Done():
			return nil, errors.New("symbolication cancelled")
		}
	}
	l := &load{done: make(chan struct{})}
	s.inflight[key] = l
	s.mu.Unlock()

	data, err := s.store.Read(ctx, meta)
	if err != nil {
		s.opts.Logger.Warn("read source map", "id", meta.ID, "err", err)
		l.err = fmt.Errorf("source map %s could not be read", meta.Name)
	} else if l.m, err = ParseMap(data); err != nil {
		l.err = fmt.Errorf("invalid source map %s: %v", meta.Name, err)
	}
	// A read failure may be transient (object storage down): don't cache it.
	if l.m != nil || data != nil {
		s.cache.add(key, l.m, l.err)
	}
	s.mu.Lock()
	delete(s.inflight, key)
	s.mu.Unlock()
	close(l.done)
	return l.m, l.err
}

func resolvable(u string) bool {
	return strings.Contains(u, "/") && !strings.HasPrefix(u, "<")
}

func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// tildePath is a URL's path without origin, query and fragment, as
// "~/path": how uploads name bundles independent of the host serving them.
func tildePath(raw string) string {
	u, err := url.Parse(stripQuery(raw))
	if err != nil || u.Path == "" {
		return ""
	}
	p := u.Path
	if u.Opaque != "" {
		return ""
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return "~" + p
}

// candidates lists the names an upload may have used for a bundle URL,
// most specific first.
func candidates(raw string) []string {
	out := []string{raw}
	if s := stripQuery(raw); s != raw {
		out = append(out, s)
	}
	if t := tildePath(raw); t != "" && t != raw {
		out = append(out, t)
	}
	return out
}

// origin is what inApp decides from a frame URL alone, for the frames of
// one stack that share it; it gives the same answers as inApp.
type origin struct {
	url string
	// never: an extension, node_modules or unresolvable URL is never in
	// app, whatever resolved it.
	never bool
	// sameOrigin is inApp's answer for an unresolved frame, computed on
	// first use (known).
	sameOrigin, known bool
}

func newOrigin(frameURL string) origin {
	// For a resolved frame with no source, inApp is false exactly when
	// the URL alone rules the frame out.
	return origin{url: frameURL, never: !inApp(frameURL, frameURL, "", true)}
}

func (o *origin) inApp(pageURL, source string, resolved bool) bool {
	if o.never || strings.Contains(source, "node_modules/") {
		return false
	}
	if resolved {
		return true
	}
	if !o.known {
		o.sameOrigin, o.known = inApp(pageURL, o.url, "", false), true
	}
	return o.sameOrigin
}

var extensionSchemes = []string{"chrome-extension:", "moz-extension:", "safari-extension:", "safari-web-extension:", "ms-browser-extension:", "edge-extension:"}

// inApp decides whether a frame is the project's own code: not a
// dependency under node_modules, not a browser extension, and not a
// third-party origin. A frame resolved by one of the project's uploaded maps
// is first-party wherever it was served from (CDNs).
func inApp(pageURL, frameURL, source string, resolved bool) bool {
	lower := strings.ToLower(frameURL)
	for _, s := range extensionSchemes {
		if strings.HasPrefix(lower, s) {
			return false
		}
	}
	if strings.Contains(lower, "/node_modules/") || strings.Contains(source, "node_modules/") {
		return false
	}
	if frameURL == "" || !resolvable(frameURL) {
		return false
	}
	if resolved {
		return true
	}
	f, err := url.Parse(frameURL)
	if err != nil {
		return false
	}
	p, err := url.Parse(pageURL)
	if pageURL == "" || err != nil || p.Host == "" {
		return true
	}
	return f.Host == "" || strings.EqualFold(f.Host, p.Host)
}
