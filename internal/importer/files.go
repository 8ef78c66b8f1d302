package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Uploaded files are kept only while they are needed: a finished import's
// file is deleted (its error report lives in the database), an upload not
// submitted within UploadTTL expires, and the files of one user's unfinished
// imports may take at most UploadCap bytes.

// DefaultUploadCap is how many bytes of unfinished uploads one user may keep.
const DefaultUploadCap = 2 << 30

// UploadTTL is how long an upload may wait, untouched, to be submitted.
const UploadTTL = 24 * time.Hour

// expiredReason is the error shown on an upload that expired.
const expiredReason = "The upload was not submitted within a day of its last change, so its file was deleted; upload the file again to import it."

// An upload is kept in the database in chunks (upload_chunks), so that every
// process on one database can map, preview and run an import uploaded
// through another; imports.path then reads "upload:<id>". Each process keeps
// a copy in its upload folder as a cache: the readers seek in a local file.
const (
	storedPrefix = "upload:"
	chunkSize    = 4 << 20
)

// errUploadGone is the error of an import whose stored file was deleted.
var errUploadGone = crm.Invalid("file", "The uploaded file of this import is no longer kept; upload it again.")

// uploadDir is where uploads are kept (and cached).
func (s *Service) uploadDir() string { return filepath.Join(s.Dir, "imports") }

// storedID returns the upload id of a path kept in the database.
func storedID(path string) (string, bool) {
	id, ok := strings.CutPrefix(path, storedPrefix)
	return id, ok && id != ""
}

// cachePath is where this process keeps its copy of a stored upload.
func (s *Service) cachePath(id string) string {
	return filepath.Join(s.uploadDir(), "upload-"+id+".csv")
}

// owned reports whether path is a file the service stored (an upload, in
// the database or, before uploads were kept there, in the upload folder),
// as opposed to a file the command line imports where it is, which is the
// user's own and never deleted.
func (s *Service) owned(path string) bool {
	if _, ok := storedID(path); ok {
		return true
	}
	return path != "" && filepath.Clean(filepath.Dir(path)) == filepath.Clean(s.uploadDir()) &&
		strings.HasPrefix(filepath.Base(path), "upload-")
}

// store copies a local file into the database in chunks and returns the
// id of the upload.
func (s *Service) store(ctx context.Context, path string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b)
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, chunkSize)
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			if err := s.Store.PutUploadChunk(ctx, id, seq, buf[:n], s.now()); err != nil {
				return id, err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return id, nil
		}
		if err != nil {
			return id, err
		}
	}
}

// local returns a local path holding an import's file: the file itself
// (the command line's), or this process's copy of a stored upload, fetched
// from the database when this process does not have it yet.
func (s *Service) local(ctx context.Context, j *crm.ImportJob) (string, error) {
	id, ok := storedID(j.Path)
	if !ok {
		return j.Path, nil
	}
	p := s.cachePath(id)
	if st, err := os.Stat(p); err == nil && st.Size() == j.Size {
		return p, nil
	}
	if err := os.MkdirAll(s.uploadDir(), 0o750); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(s.uploadDir(), "fetch-*.part")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	var n int64
	for seq := 0; ; seq++ {
		b, err := s.Store.UploadChunk(ctx, id, seq)
		if errors.Is(err, crm.ErrNotFound) {
			break
		}
		if err == nil {
			_, err = f.Write(b)
			n += int64(len(b))
		}
		if err != nil {
			f.Close()
			os.Remove(tmp)
			return "", err
		}
	}
	err = f.Close()
	if err == nil && n != j.Size {
		err = errUploadGone
	}
	if err == nil {
		// a rename is atomic: a reader beside this one sees a whole file or none
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return p, nil
}

// release deletes the file of an ended import (when it is an upload) and
// records that the import no longer holds one.
func (s *Service) release(ctx context.Context, j *crm.ImportJob) error {
	if j.Path == "" {
		return nil
	}
	if id, ok := storedID(j.Path); ok {
		if err := s.Store.DeleteUpload(ctx, id); err != nil {
			return err
		}
		if err := os.Remove(s.cachePath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	} else if s.owned(j.Path) {
		if err := os.Remove(j.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := s.Store.ForgetImportFile(ctx, j.ID); err != nil {
		return err
	}
	j.Path = ""
	return nil
}

// lockUploads lets one upload of a user stream at a time in this process, so
// that uploads sent at once cannot each find room under the cap.
func (s *Service) lockUploads(ctx context.Context, userID int64) (func(), error) {
	v, _ := s.uploading.LoadOrStore(userID, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// room returns how many bytes the user may still upload, or a Conflict
// naming the unfinished imports that take the room.
func (s *Service) room(ctx context.Context, actor *crm.User) (int64, error) {
	if s.UploadCap <= 0 {
		return MaxUpload, nil
	}
	used, _, err := s.held(ctx, actor)
	if err != nil {
		return 0, err
	}
	if used < s.UploadCap {
		return min(s.UploadCap-used, MaxUpload), nil
	}
	return 0, s.overCap(ctx, actor)
}

// held sums the uploads of the user's unfinished imports, and names them.
func (s *Service) held(ctx context.Context, actor *crm.User) (int64, []string, error) {
	js, err := s.Store.ImportsHoldingFiles(ctx, actor.ID)
	if err != nil {
		return 0, nil, err
	}
	var used int64
	var names []string
	for _, j := range js {
		if s.owned(j.Path) {
			used += j.Size
			names = append(names, fmt.Sprintf("%s (%s, %s)", j.Filename, sizeText(j.Size), j.Status))
		}
	}
	return used, names, nil
}

// overCap is the refusal of an upload that does not fit under the cap.
func (s *Service) overCap(ctx context.Context, actor *crm.User) error {
	used, names, err := s.held(ctx, actor)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return crm.Conflict("The file is larger than the %s of files each user may keep in unfinished imports; split it into smaller files.", sizeText(s.UploadCap))
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return crm.Conflict("Your unfinished imports keep %s of files, and this one does not fit in the %s each user may keep: "+
		"finish or discard (cancel) some of them on the Imports page first: %s.",
		sizeText(used), sizeText(s.UploadCap), strings.Join(names, ", "))
}

// sizeText writes a number of bytes for people (1.5 GiB, 300 KiB).
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Sweep deletes the files no longer needed: those of ended imports (left by
// a crash between the end and the deletion), those of uploads not submitted
// within UploadTTL (the import is canceled, saying why), and files in the
// upload folder that no import holds and that are older than UploadTTL
// (left by a crash during an upload).
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	stale := now.Add(-UploadTTL)
	for {
		js, err := s.Store.ImportFilesToRemove(ctx, stale, 500)
		if err != nil {
			return err
		}
		released := 0
		for i := range js {
			j := &js[i]
			if j.Status == crm.ImportUploaded {
				ok, err := s.Store.ExpireImport(ctx, j.ID, stale, now, expiredReason)
				if err != nil {
					return err
				}
				if !ok {
					continue // submitted or changed meanwhile
				}
				j.Status = crm.ImportCanceled
			}
			if err := s.release(ctx, j); err != nil {
				return err
			}
			released++
		}
		if len(js) < 500 || released == 0 {
			break
		}
	}
	held, err := s.Store.ImportsHoldingFiles(ctx, 0)
	if err != nil {
		return err
	}
	keep, keepIDs := map[string]bool{}, map[string]bool{}
	for _, j := range held {
		if id, ok := storedID(j.Path); ok {
			keepIDs[id] = true
			keep[filepath.Clean(s.cachePath(id))] = true
		} else {
			keep[filepath.Clean(j.Path)] = true
		}
	}
	// stored uploads that no import holds, a day old: left by a crash
	// between storing an upload and recording its import
	ids, err := s.Store.UploadsBefore(ctx, stale)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !keepIDs[id] {
			if err := s.Store.DeleteUpload(ctx, id); err != nil {
				return err
			}
		}
	}
	es, err := os.ReadDir(s.uploadDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range es {
		p := filepath.Join(s.uploadDir(), e.Name())
		name := e.Name()
		if !e.Type().IsRegular() || keep[filepath.Clean(p)] ||
			!(strings.HasPrefix(name, "upload-") || strings.HasPrefix(name, "fetch-")) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		// a copy of a stored upload that no import holds any more (ended
		// through another process) goes after an hour; any other stray
		// file after a day, when no import can be about to hold it
		cutoff := stale
		if isCacheName(name) {
			cutoff = now.Add(-time.Hour)
		}
		if !info.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// isCacheName reports whether a file name is that of a copy of a stored
// upload ("upload-" + 32 hex digits + ".csv").
func isCacheName(name string) bool {
	id, ok := strings.CutPrefix(name, "upload-")
	if !ok {
		return false
	}
	id, ok = strings.CutSuffix(id, ".csv")
	if !ok || len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// Clean sweeps now and then every interval until ctx ends.
func (s *Service) Clean(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.Error("deleting import files no longer needed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
