package synthetic_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
)

// upload is a CI run's upload: n Lighthouse results over 10 routes.
func upload(n int, run string) synthetic.Upload {
	var u synthetic.Upload
	for i := range n {
		u.Results = append(u.Results, lab(fmt.Sprintf("%s-%d", run, i), run, fmt.Sprintf("https://shop.example.com/%c/", 'a'+i%10), int64(1000+i), 1400+float64(i), 0.01))
	}
	return u
}

func BenchmarkDecodeUpload(b *testing.B) {
	body, _ := json.Marshal(upload(100, "r1"))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := synthetic.DecodeUpload(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSave stores one 20-result upload per op (a CI run of 10 pages
// on two profiles), each with new ids.
func BenchmarkSave(b *testing.B) {
	s := synthetic.NewStore(storetest.Open(b))
	ctx := context.Background()
	i := 0
	for b.Loop() {
		u := upload(20, fmt.Sprintf("r%d", i))
		for k := range u.Results {
			if err := u.Results[k].Validate("r"); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Save(ctx, "shop", u.Results); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSummary summarises a release of 200 results out of 2,000 stored.
func BenchmarkSummary(b *testing.B) {
	s := synthetic.NewStore(storetest.Open(b))
	ctx := context.Background()
	for r := range 10 {
		u := upload(200, fmt.Sprintf("r%d", r))
		for k := range u.Results {
			u.Results[k].Validate("r")
		}
		if _, err := s.Save(ctx, "shop", u.Results); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		rows, err := s.Summary(ctx, "shop", "r5", 0)
		if err != nil || len(rows) != 30 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
}
