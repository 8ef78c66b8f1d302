package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// uploads lists the files kept in the service's upload folder.
func uploads(t *testing.T, s *Service) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(s.Dir, "imports"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func upload(t *testing.T, s *Service, u *crm.User, name, content string) (*crm.ImportJob, error) {
	t.Helper()
	j, _, err := s.Upload(t.Context(), u, name, strings.NewReader(content))
	return j, err
}

// A finished import's file is deleted (done, failed or canceled); its error
// report stays whole, header included. A file imported in place from the
// command line is the user's own and stays.
func TestFinishedImportsDeleteTheirFile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := New(db, t.TempDir(), nil)
		u := admin(t, db)
		j, err := upload(t, s, u, "a.csv", "Name,Email\nAnn,ann@example.com\nBad,not-an-email\n")
		if err != nil {
			t.Fatal(err)
		}
		if len(uploads(t, s)) != 1 {
			t.Fatalf("uploads %q", uploads(t, s))
		}
		if _, err := s.Submit(ctx, u, j.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if j, _ = db.GetImport(ctx, j.ID); j.Status != crm.ImportDone || j.Failed != 1 {
			t.Fatalf("%+v", j)
		}
		if got := uploads(t, s); len(got) != 0 {
			t.Fatalf("a done import's file is kept: %q", got)
		}
		var rep bytes.Buffer
		if err := s.ErrorReport(ctx, u, j.ID, &rep); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&rep).ReadAll()
		if err != nil || len(recs) != 2 || strings.Join(recs[0], ",") != "row,error,Name,Email" || recs[1][3] != "not-an-email" {
			t.Fatalf("report after the file was deleted: %q %v", recs, err)
		}

		// canceled before it was submitted (discarded) or while it waits to run
		for _, submit := range []bool{false, true} {
			j, err := upload(t, s, u, "b.csv", "Name\nBo\n")
			if err != nil {
				t.Fatal(err)
			}
			if submit {
				if _, err := s.Submit(ctx, u, j.ID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Cancel(ctx, u, j.ID); err != nil {
				t.Fatal(err)
			}
			if got := uploads(t, s); len(got) != 0 {
				t.Fatalf("a canceled import's file is kept (submitted %v): %q", submit, got)
			}
		}

		// failed: the file turns out unreadable when the import runs
		j, err = upload(t, s, u, "c.csv", "Name\nCy\n")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Submit(ctx, u, j.ID); err != nil {
			t.Fatal(err)
		}
		// its stored copy is gone (and so is this process's cache of it)
		id, _ := storedID(j.Path)
		if err := db.DeleteUpload(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(s.cachePath(id)); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if j, _ = db.GetImport(ctx, j.ID); j.Status != crm.ImportFailed || !strings.Contains(j.Error, "no longer kept") {
			t.Fatalf("%+v", j)
		}
		if got := uploads(t, s); len(got) != 0 {
			t.Fatalf("a failed import's file is kept: %q", got)
		}

		// the command line imports a file where it is: it stays
		own := genFile(t, 3)
		j, _, err = s.Register(ctx, u, "own.csv", own, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Submit(ctx, u, j.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(own); err != nil {
			t.Fatalf("the user's own file: %v", err)
		}
	})
}

// The sweep expires uploads left unsubmitted for a day (the import is
// canceled, saying why, and its file deleted), deletes the files of ended
// imports that a crash left behind and files no import holds, and leaves
// everything younger alone.
func TestSweepExpiresUnsubmittedUploads(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s := New(db, t.TempDir(), nil)
		s.Now = func() time.Time { return now }
		u := admin(t, db)
		old, err := upload(t, s, u, "old.csv", "Name\nAnn\n")
		if err != nil {
			t.Fatal(err)
		}
		touched, err := upload(t, s, u, "touched.csv", "Name\nBo\n")
		if err != nil {
			t.Fatal(err)
		}
		ended, err := upload(t, s, u, "ended.csv", "Name\nCy\n")
		if err != nil {
			t.Fatal(err)
		}
		// ended while its file stayed (a crash between the two)
		ended.Status, ended.EndedAt = crm.ImportDone, &now
		if err := db.UpdateImport(ctx, ended); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(s.Dir, "imports")
		stray := filepath.Join(dir, "upload-stray.csv") // a crash during an upload
		fresh := filepath.Join(dir, "upload-fresh.csv") // an upload being written
		for _, p := range []string{stray, fresh} {
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(stray, now.Add(-25*time.Hour), now.Add(-25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(fresh, now.Add(24*time.Hour), now.Add(24*time.Hour)); err != nil { // an hour before the last sweep
			t.Fatal(err)
		}

		now = now.Add(23 * time.Hour)
		if _, err := s.SetMapping(ctx, u, touched.ID, nil, ModeUpsert); err != nil { // worked on: its day starts again
			t.Fatal(err)
		}
		if err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		// a stored upload that no import holds (a crash between storing it and
		// recording its import), and one being stored now
		if err := db.PutUploadChunk(ctx, "stray", 0, []byte("x"), now.Add(-25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.PutUploadChunk(ctx, "storing", 0, []byte("x"), now); err != nil {
			t.Fatal(err)
		}
		if got, want := uploads(t, s), []string{cacheName(s, old), cacheName(s, touched), "upload-fresh.csv"}; !sameFiles(got, want) {
			t.Fatalf("after 23 hours: %q, want %q", got, want)
		}
		now = now.Add(2 * time.Hour)
		if err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := uploads(t, s), []string{cacheName(s, touched), "upload-fresh.csv"}; !sameFiles(got, want) {
			t.Fatalf("after 25 hours: %q, want %q", got, want)
		}
		j, err := s.Get(ctx, u, old.ID)
		if err != nil || j.Status != crm.ImportCanceled || !strings.Contains(j.Error, "not submitted within a day") || j.Path != "" {
			t.Fatalf("the expired import: %+v %v", j, err)
		}
		for id, kept := range map[string]bool{stored(old): false, stored(ended): false, stored(touched): true, "stray": false, "storing": true} {
			if _, err := db.UploadChunk(ctx, id, 0); (err == nil) != kept {
				t.Errorf("stored upload %s: kept %v, want %v (%v)", id, err == nil, kept, err)
			}
		}
		if _, err := s.Submit(ctx, u, old.ID); crm.CodeOf(err) != crm.CodeConflict {
			t.Fatalf("submitting an expired upload: %v", err)
		}
	})
}

func sameFiles(got, want []string) bool {
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// The files of a user's unfinished imports may take at most UploadCap: the
// upload that would go over is refused with a 409 naming the uploads to
// finish or discard, and leaves no file; discarding one makes room. Another
// user has a cap of their own.
func TestUploadCapRefusesTheNextUpload(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := New(db, t.TempDir(), nil)
		s.UploadCap = 1000
		u := admin(t, db)
		row := "Name\n" + strings.Repeat("Ann\n", 150) // 605 bytes
		first, err := upload(t, s, u, "first.csv", row)
		if err != nil {
			t.Fatal(err)
		}
		_, err = upload(t, s, u, "second.csv", row)
		if crm.CodeOf(err) != crm.CodeConflict || !strings.Contains(err.Error(), "first.csv") || !strings.Contains(err.Error(), "discard") {
			t.Fatalf("an upload over the cap: %v", err)
		}
		if got := uploads(t, s); len(got) != 1 {
			t.Fatalf("the refused upload left a file: %q", got)
		}
		other := &crm.User{Email: "bo@example.com", Name: "Bo", Role: crm.RoleMember, Active: true, PasswordHash: "x", CreatedAt: time.Now()}
		if err := db.CreateUser(ctx, other); err != nil {
			t.Fatal(err)
		}
		if _, err := upload(t, s, other, "bos.csv", row); err != nil {
			t.Fatalf("another user's upload: %v", err)
		}
		if _, err := s.Cancel(ctx, u, first.ID); err != nil { // discarded
			t.Fatal(err)
		}
		if _, err := upload(t, s, u, "second.csv", row); err != nil {
			t.Fatalf("after discarding the first: %v", err)
		}
	})
}

// stored is the upload id of an import's stored file.
func stored(j *crm.ImportJob) string {
	id, _ := storedID(j.Path)
	return id
}

// cacheName is the name of this process's copy of an import's stored file.
func cacheName(s *Service, j *crm.ImportJob) string {
	return filepath.Base(s.cachePath(stored(j)))
}
