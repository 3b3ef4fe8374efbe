package sdkproto

import (
	"fmt"
	"strings"
)

// The NATS contract between edges and the coordinator. Edges publish each
// accepted batch split by kind, one message per kind, to
// rv.ingest.<region>.<project>.<kind>; the body is a Batch holding only that
// kind's events (already filtered and masked) and the headers below carry what
// the edge learnt about the request. The client IP is never among them.
const (
	// StreamName is the JetStream stream capturing SubjectAll.
	StreamName = "REARVIEW"
	// SubjectAll matches every ingest subject.
	SubjectAll = "rv.ingest.>"
	// KeysBucket is the KV bucket the coordinator writes and edges read:
	// key = public ingest key, value = ProjectKey JSON.
	KeysBucket = "rv_keys"
	// PolicyBucket is the KV bucket holding one policy per project.
	PolicyBucket = "rv_policy"
	// BotListKey is the key of PolicyBucket holding the bot list every
	// edge matches User-Agents against (crawler-user-agents.json's
	// format); without it edges use the module's built-in copy. No project
	// id starts with an underscore.
	BotListKey = "_bots"
	// ModulesBucket is the object store holding signed filter modules.
	ModulesBucket = "rv_modules"

	// KindOutcome is the subject kind under which an edge publishes counts
	// of what it dropped and why. It never carries user data.
	KindOutcome Kind = "outcome"

	HeaderMsgID      = "Nats-Msg-Id"
	HeaderProject    = "Rv-Project"
	HeaderRegion     = "Rv-Region"
	HeaderCountry    = "Rv-Country"
	HeaderReceivedAt = "Rv-Received-At"
	HeaderBrowser    = "Rv-Browser"
	HeaderDevice     = "Rv-Device-Class"
)

// Subject returns the subject an edge in region publishes project's events
// of kind under. Region and project must be valid subject tokens (see
// ValidToken).
func Subject(region, project string, kind Kind) string {
	return "rv.ingest." + region + "." + project + "." + string(kind)
}

// ParseSubject splits an ingest subject into region, project and kind.
func ParseSubject(subject string) (region, project string, kind Kind, err error) {
	parts := strings.Split(subject, ".")
	if len(parts) != 5 || parts[0] != "rv" || parts[1] != "ingest" {
		return "", "", "", fmt.Errorf("parse subject %q: want rv.ingest.<region>.<project>.<kind>", subject)
	}
	return parts[2], parts[3], Kind(parts[4]), nil
}

// ValidToken reports whether s can stand as one NATS subject token: regions
// and project ids are restricted to [a-z0-9-], 1 to 32 characters.
func ValidToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ProjectKey is the value stored under a public ingest key in KeysBucket.
type ProjectKey struct {
	Project  string `json:"project"`
	Name     string `json:"name"`
	Disabled bool   `json:"disabled,omitempty"`
	// RateLimit is events per second the edge admits for the project; 0 is
	// the edge's default.
	RateLimit float64 `json:"rate_limit,omitempty"`
}

// Outcome counts what an edge did with a batch's events. Published under
// KindOutcome when anything was dropped, so users see why data is missing.
type Outcome struct {
	Project  string         `json:"project"`
	Region   string         `json:"region"`
	TS       int64          `json:"ts"`
	Accepted int            `json:"accepted"`
	Dropped  map[string]int `json:"dropped"`
}

// Drop reasons an edge reports in an Outcome. Policy engines add their own
// (browser-extensions, web-crawlers, sampled, …).
const (
	ReasonInvalid     = "invalid"
	ReasonRateLimited = "rate-limited"
)
