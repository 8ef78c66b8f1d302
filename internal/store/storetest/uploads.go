package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// UploadChunks: an upload kept in the database reads back byte for byte,
// chunk by chunk, ends with ErrNotFound, is listed by age and deleted whole.
func UploadChunks(t *testing.T, s crm.Store) {
	big := bytes.Repeat([]byte("Name,Email\nÅsa,asa@example.com\n\x00\xff"), 50_000) // ~2 MB, any byte
	chunks := [][]byte{big, []byte("tail\n")}
	for i, c := range chunks {
		if err := s.PutUploadChunk(ctx, "a1", i, c, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutUploadChunk(ctx, "b2", 0, []byte("x"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUploadChunk(ctx, "a1", 1, []byte("again"), t0); err == nil {
		t.Fatal("a chunk was stored twice")
	}
	for i, want := range chunks {
		got, err := s.UploadChunk(ctx, "a1", i)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("chunk %d: %d bytes, want %d (%v)", i, len(got), len(want), err)
		}
	}
	if _, err := s.UploadChunk(ctx, "a1", 2); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("past the end: %v", err)
	}
	if ids, err := s.UploadsBefore(ctx, t0.Add(time.Minute)); err != nil || !slices.Equal(ids, []string{"a1"}) {
		t.Fatalf("uploads before: %q %v", ids, err)
	}
	if ids, err := s.UploadsBefore(ctx, t0.Add(2*time.Hour)); err != nil || !slices.Equal(ids, []string{"a1", "b2"}) {
		t.Fatalf("uploads before: %q %v", ids, err)
	}
	if err := s.DeleteUpload(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadChunk(ctx, "a1", 0); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.UploadChunk(ctx, "b2", 0); err != nil {
		t.Fatalf("another upload: %v", err)
	}
}
