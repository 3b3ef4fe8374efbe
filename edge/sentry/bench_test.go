package sentry

import (
	"os"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/sdkproto"
)

// BenchmarkTranslate measures what the edge adds before the policy stage
// for a Sentry envelope: parse, translate, encode the Rearview batch. The
// envelopes are real ones from @sentry/browser 11.12.0 (testdata/).
func BenchmarkTranslate(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"error", "event-checkout.envelope"},
		{"replay", "replay.envelope"},
		{"spans", "spans-pageload.envelope"},
	} {
		b.Run(c.name, func(b *testing.B) {
			data, err := os.ReadFile("testdata/" + c.file)
			if err != nil {
				b.Fatal(err)
			}
			lim := DefaultLimits()
			now := time.Now()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				env, err := Parse(data, lim)
				if err != nil {
					b.Fatal(err)
				}
				tr := Translate(env, Request{Now: now}, lim)
				if _, err := sdkproto.Encode(tr.Batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "envelopes/s")
		})
	}
}
