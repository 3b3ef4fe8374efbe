package sdkproto

import (
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
)

// SentryProjectID is the project id of project's Sentry DSN. Sentry SDKs
// refuse a DSN whose project id is not a number, and Rearview's project ids
// are slugs, so the DSN carries a number derived from the slug: every edge
// and the coordinator compute the same one without storing it, and an edge
// checks that a request's project id is the one of its key's project.
func SentryProjectID(project string) string {
	h := fnv.New32a()
	h.Write([]byte(project))
	return strconv.FormatUint(uint64(h.Sum32()), 10)
}

// SentryDSN is the DSN that points a Sentry SDK at the edge at edgeURL
// (scheme, host and an optional path prefix) for the project of the public
// ingest key: {scheme}://{key}@{host}{path}/{SentryProjectID(project)}.
func SentryDSN(edgeURL, key, project string) string {
	u, err := url.Parse(strings.TrimRight(edgeURL, "/"))
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + key + "@" + u.Host + u.Path + "/" + SentryProjectID(project)
}

// AttrPageSpan is the vital attribution that names the page view a vital
// belongs to by its span id (Sentry's pageload or navigation span): the
// edge's Sentry translation sets it, and the coordinator gives a vital that
// came without its page's URL the route of the vitals of the same page span
// that came with it.
const AttrPageSpan = "page_span_id"

// SentryPageViewID is the event id of the page view (a session event,
// state page_view) that the edge's Sentry translation makes of a pageload
// or navigation span: the coordinator learns from it the route of the page
// span that later vitals name, even when the span carried no vital itself.
func SentryPageViewID(span string) string { return span + "-page" }

// SentryPageSpan is the page span of an event id SentryPageViewID made.
func SentryPageSpan(eventID string) (span string, ok bool) {
	return strings.CutSuffix(eventID, "-page")
}
