package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// allocated returns how many bytes fn allocates (every goroutine counts).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A row of millions of cells, or of megabytes, is refused while it is read,
// before it is held in memory: several such files previewed and imported at
// once allocate a few megabytes, and each such row is a failed row of the
// report, saying why, while the rows around it import.
func TestOversizedRowsAreReportedWithoutAllocating(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := New(db, t.TempDir(), nil)
		u := admin(t, db)
		const commas = 4_000_000
		var b bytes.Buffer
		b.WriteString("first_name,email\nAnn,ann@example.com\n")
		b.WriteString("X" + strings.Repeat(",", commas) + "\n")                  // 4,000,001 cells
		b.WriteString("Long," + strings.Repeat("y", 3*MaxRowBytes) + "@x.com\n") // 3 MiB
		b.WriteString(strings.Repeat(",", 2*MaxRowFields) + "\n")                // a blank row, but of 2,001 cells
		b.WriteString("Bo,bo@example.com\n")
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		const parallel = 4
		ids := make([]int64, parallel)
		for i := range ids {
			j, _, err := s.Register(ctx, u, "f.csv", path, int64(b.Len()))
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = j.ID
		}
		errs := make([]error, parallel)
		counts := make([]*Counts, parallel)
		previews := make([][]PreviewRow, parallel)
		used := allocated(func() {
			var wg sync.WaitGroup
			for i, id := range ids {
				wg.Go(func() {
					if previews[i], counts[i], errs[i] = s.Preview(ctx, u, id, 10); errs[i] != nil {
						return
					}
					if _, errs[i] = s.Submit(ctx, u, id); errs[i] != nil {
						return
					}
					errs[i] = s.Run(ctx, id, nil)
				})
			}
			wg.Wait()
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%d previews and imports of a %d MB file allocated %d MB", parallel, b.Len()>>20, used>>20)
		if used > 64<<20 {
			t.Errorf("%d previews and imports of a %d MB file allocated %d MB", parallel, b.Len()>>20, used>>20)
		}
		wantErrs := map[int64]string{
			2: fmt.Sprintf("This row has 4,000,001 cells; at most %s are allowed", thousands(MaxRowFields)),
			3: fmt.Sprintf("This row is %s bytes long; at most %s are allowed", thousands(5+3*MaxRowBytes+6), thousands(MaxRowBytes)),
			4: fmt.Sprintf("This row has 2,001 cells; at most %s are allowed", thousands(MaxRowFields)),
		}
		for i, id := range ids {
			if c := counts[i]; c.Rows != 5 || c.Failing != 3 || c.Valid != 2 {
				t.Errorf("preview counts %+v", c)
			}
			if p := previews[i]; len(p) != 5 || p[1].Action != "fail" || len(p[1].Errors) != 1 || !strings.HasPrefix(p[1].Errors[0], wantErrs[2]) {
				t.Errorf("preview rows %+v", p)
			}
			j, err := db.GetImport(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != crm.ImportDone || j.Processed != 5 || j.Failed != 3 || j.Created+j.Skipped != 2 {
				t.Fatalf("import %+v", j)
			}
			var rep bytes.Buffer
			if err := s.ErrorReport(ctx, u, id, &rep); err != nil {
				t.Fatal(err)
			}
			cr := csv.NewReader(&rep)
			cr.FieldsPerRecord = -1
			recs, err := cr.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 4 {
				t.Fatalf("report of %d lines", len(recs))
			}
			for _, r := range recs[1:] {
				var num int64
				fmt.Sscan(r[0], &num)
				if !strings.HasPrefix(r[1], wantErrs[num]) {
					t.Errorf("row %d reported as %q, want %q", num, r[1], wantErrs[num])
				}
				if len(r) != 4 || len(strings.Join(r, "")) > 2*maxReportCell {
					t.Errorf("row %d reported with %d cells of %d bytes", num, len(r), len(strings.Join(r, "")))
				}
			}
		}
	})
}

// Sniffing a file whose first line has hundreds of thousands of cells reads
// only the sample, and keeps only what the limits allow of it.
func TestSniffOfAHugeHeaderIsBounded(t *testing.T) {
	path := writeFile(t, strings.Repeat("a,", sampleBytes)+"\n1,2\n")
	var err error
	used := allocated(func() { _, err = Sniff(path) })
	if err == nil || !strings.Contains(err.Error(), "columns; at most 500 are supported") {
		t.Fatalf("sniff: %v", err)
	}
	if used > 8<<20 { // the sample, and cells of at most MaxRowBytes per delimiter tried

		t.Fatalf("sniffing a %d KiB sample allocated %d KiB", sampleBytes>>10, used>>10)
	}
}
