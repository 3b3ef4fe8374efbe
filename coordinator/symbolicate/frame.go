package symbolicate

import "github.com/rearview-dev/rearview/sdkproto"

// Frame is one stack frame after symbolication: the minified position as the
// browser reported it, and where a source map could resolve it, the original
// position with context lines. A frame that could not be resolved keeps its
// minified position and says why in UnresolvedReason; it is never dropped.
type Frame struct {
	sdkproto.Frame

	// InApp is false for node_modules, browser extensions and third-party
	// origins; grouping uses in-app frames first.
	InApp bool `json:"in_app"`
	// Original is the source position the map resolves to, nil when
	// unresolved.
	Original *Position `json:"original,omitempty"`
	// Context holds up to five lines either side of Original from the map's
	// sourcesContent.
	Context *Context `json:"context,omitempty"`
	// UnresolvedReason says why Original is nil ("no source map for
	// release", "invalid source map: …", "position out of range", …).
	UnresolvedReason string `json:"unresolved_reason,omitempty"`
}

// Position is a place in an original source file. Lines and columns are
// 1-based, as browsers report them.
type Position struct {
	Source   string `json:"source"`
	Function string `json:"function,omitempty"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Context is source text around a resolved position.
type Context struct {
	Pre  []string `json:"pre,omitempty"`
	Line string   `json:"line"`
	Post []string `json:"post,omitempty"`
}
