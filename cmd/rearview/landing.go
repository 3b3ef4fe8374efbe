package main

import (
	"html/template"
	"net/http"
)

var landingTmpl = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rearview</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.8rem;margin-bottom:.2rem} code{background:#eef1f6;padding:.1rem .3rem;border-radius:4px}
a.button{display:inline-block;margin:.3rem .5rem .3rem 0;padding:.5rem .9rem;border-radius:6px;background:#2a5bd7;color:#fff;text-decoration:none}
</style></head>
<body>
<h1>Rearview</h1>
<p>Frontend errors with their original stack, replays of what the user saw, and Core Web Vitals &mdash; with personal data masked at the edge before it leaves the region.</p>
<p><a class="button" id="demo" href="/demo/">Open the demo page</a> <a class="button" href="/player/">Open the player</a></p>
<p>Tour: the demo page loads the browser SDK from the edge (<code>{{.EdgeURL}}/sdk/v1.js</code>) with the demo project's
ingest key <code>{{.Key}}</code>. Click around and trigger an error: the SDK sends errors, vitals and a masked replay to the
edge, which filters, samples and masks them and publishes them to NATS; the coordinator stores them, and the player shows your
session live and afterwards as an issue with its replay.</p>
</body></html>`))

func landingPage(edgeURL, key string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = landingTmpl.Execute(w, map[string]string{"EdgeURL": edgeURL, "Key": key})
	})
}
