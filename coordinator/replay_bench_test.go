package coordinator_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/andybalholm/brotli"
)

// BenchmarkReplayCompress compresses testdata/session.json (one minute of a
// real rrweb recording, see TestRecordReplayFixture) at several brotli
// qualities: the stored KB per recorded minute against the CPU it costs
// is how the coordinator's quality was chosen.
func BenchmarkReplayCompress(b *testing.B) {
	raw, err := os.ReadFile("testdata/session.json")
	if err != nil {
		b.Fatal(err)
	}
	var evs []struct {
		Timestamp int64 `json:"timestamp"`
	}
	if err := json.Unmarshal(raw, &evs); err != nil || len(evs) < 2 {
		b.Fatalf("fixture: %v", err)
	}
	minutes := float64(evs[len(evs)-1].Timestamp-evs[0].Timestamp) / 60000
	for _, q := range []int{1, 3, 4, 5, 6, 7, 9, 11} {
		b.Run(fmt.Sprintf("q%d", q), func(b *testing.B) {
			var out bytes.Buffer
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				out.Reset()
				w := brotli.NewWriterLevel(&out, q)
				w.Write(raw)
				w.Close()
			}
			b.ReportMetric(float64(len(raw))/float64(out.Len()), "ratio")
			b.ReportMetric(float64(out.Len())/1024/minutes, "KB/min")
		})
	}
	// gzip at its default level, for comparison with what the browser sent.
	b.Run("gzip", func(b *testing.B) {
		var out bytes.Buffer
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			out.Reset()
			w := gzip.NewWriter(&out)
			w.Write(raw)
			w.Close()
		}
		b.ReportMetric(float64(len(raw))/float64(out.Len()), "ratio")
		b.ReportMetric(float64(out.Len())/1024/minutes, "KB/min")
	})
}
