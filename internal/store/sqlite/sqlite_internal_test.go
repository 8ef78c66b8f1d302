package sqlite

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
)

// Readers map the file (a write elsewhere empties their page caches, and
// the map spares them reading every page again); an export's connection
// reads without the map and with a small cache, and gets both back after.
func TestReadersMapTheFileButNotForAnExport(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "crm.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := sql.Open("sqlite", readerDSN("file:"+(&url.URL{Path: path}).EscapedPath()+"?"+pragmas))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conn, err := r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	settings := func() (cache, mmap int64) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
			t.Fatal(err)
		}
		return cache, mmap
	}
	if cache, mmap := settings(); cache != -readerCacheKiB || mmap != readerMmap {
		t.Fatalf("a reader has cache_size %d and mmap_size %d, want %d and %d", cache, mmap, -readerCacheKiB, readerMmap)
	}
	restore, err := dialect{}.LongRead(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if cache, mmap := settings(); cache != -2048 || mmap != 0 {
		t.Fatalf("during an export: cache_size %d and mmap_size %d, want -2048 and 0", cache, mmap)
	}
	restore()
	if cache, mmap := settings(); cache != -readerCacheKiB || mmap != readerMmap {
		t.Fatalf("after an export: cache_size %d and mmap_size %d, want them back", cache, mmap)
	}
}
