// Package importer imports customers from CSV files as real tools export
// them: it sniffs the encoding, delimiter and header, maps columns to
// targets, checks each row with the rules of SPEC section 7, and runs the
// import in batches of thousands of rows per transaction, saving its position
// with each batch so that an interrupted import resumes exactly there.
package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/acme/crm/internal/crm"
)

// MaxUpload is the largest file accepted.
const MaxUpload = 1 << 30

// StaleAfter is how long a running import may go without saving a batch
// before it is considered stopped (its process died) and started again.
const StaleAfter = 15 * time.Second

// Service holds the import use cases.
type Service struct {
	Store crm.Store
	Dir   string // where uploaded files are kept
	// Enqueue starts the background job of an import (River in production).
	Enqueue func(ctx context.Context, importID int64) error
	Now     func() time.Time
	// BatchRows is how many rows are read, checked and written at once
	// (what the import holds in memory).
	BatchRows int
	// TxRows is how many rows one transaction holds at most (whole batches;
	// a transaction also ends after two seconds).
	TxRows int
	// AnalyzeRows is how many customers an import must create or update
	// for the store to refresh its planner's statistics at the end.
	AnalyzeRows int64
	// UploadCap is how many bytes the files of one user's unfinished imports
	// may take (0: no cap but MaxUpload per file).
	UploadCap int64

	uploading sync.Map // user id -> chan struct{}: one upload at a time per user
}

// New returns the service; dir keeps the uploads.
func New(s crm.Store, dir string, enqueue func(ctx context.Context, importID int64) error) *Service {
	return &Service{Store: s, Dir: dir, Enqueue: enqueue, Now: time.Now, BatchRows: 5000, TxRows: 50_000, AnalyzeRows: 10_000,
		UploadCap: DefaultUploadCap}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// Upload stores a file (streamed, at most MaxUpload bytes, and within the
// user's UploadCap), checks that it is a CSV file with a header and rows,
// and records the import with the automatic mapping.
func (s *Service) Upload(ctx context.Context, actor *crm.User, filename string, r io.Reader) (*crm.ImportJob, *Format, error) {
	unlock, err := s.lockUploads(ctx, actor.ID)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	room, err := s.room(ctx, actor)
	if err != nil {
		return nil, nil, err
	}
	dir := s.uploadDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, err
	}
	f, err := os.CreateTemp(dir, "upload-*.part")
	if err != nil {
		return nil, nil, err
	}
	path := f.Name()
	n, err := io.Copy(f, io.LimitReader(r, room+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
	case n > MaxUpload:
		err = crm.Invalid("file", "The file is larger than 1 GiB; split it into smaller files.")
	case n > room:
		err = s.overCap(ctx, actor)
	}
	if err != nil {
		os.Remove(path)
		return nil, nil, err
	}
	// the file is checked before it is stored: a refused one costs no writes
	format, err := Sniff(path)
	if err != nil {
		os.Remove(path)
		return nil, nil, err
	}
	id, err := s.store(ctx, path)
	if err == nil {
		err = os.Rename(path, s.cachePath(id))
	}
	if err != nil {
		os.Remove(path)
		if id != "" {
			s.Store.DeleteUpload(context.WithoutCancel(ctx), id)
		}
		return nil, nil, err
	}
	j, err := s.register(ctx, actor, filename, storedPrefix+id, s.cachePath(id), n, format)
	if err != nil {
		os.Remove(s.cachePath(id))
		s.Store.DeleteUpload(context.WithoutCancel(ctx), id)
	}
	return j, format, err
}

// Register records an import of a file already on disk (the command line
// imports a file in place).
func (s *Service) Register(ctx context.Context, actor *crm.User, filename, path string, size int64) (*crm.ImportJob, *Format, error) {
	format, err := Sniff(path)
	if err != nil {
		return nil, nil, err
	}
	j, err := s.register(ctx, actor, filename, path, path, size, format)
	return j, format, err
}

// register records an import of the file kept at stored (a path, or an
// upload in the database), read here from local.
func (s *Service) register(ctx context.Context, actor *crm.User, filename, stored, local string, size int64, format *Format) (*crm.ImportJob, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(strings.ReplaceAll(filename, "\\", "/"))
	if name == "" || name == "." || name == "/" {
		name = "import.csv"
	}
	samples, err := Samples(local, format, 2)
	if err != nil {
		return nil, err
	}
	j := &crm.ImportJob{UserID: actor.ID, Filename: name, Path: stored, Size: size, Status: crm.ImportUploaded, Mode: ModeCreate,
		Mapping: AutoMap(format.Columns, samples, cat), Header: format.Columns, CreatedAt: s.now()}
	if err := s.Store.CreateImport(ctx, j); err != nil {
		return nil, err
	}
	return j, nil
}

// Get returns an import the actor may see, and starts it again when its
// process died (no batch saved for StaleAfter).
func (s *Service) Get(ctx context.Context, actor *crm.User, id int64) (*crm.ImportJob, error) {
	j, err := s.Store.GetImport(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.UserID != actor.ID && !actor.IsAdmin() {
		return nil, crm.NotFound("import")
	}
	return s.revive(ctx, j)
}

// List returns the latest imports (all for admins, one's own for members).
func (s *Service) List(ctx context.Context, actor *crm.User) ([]crm.ImportJob, error) {
	all, err := s.Store.ListImports(ctx, 200)
	if err != nil {
		return nil, err
	}
	out := []crm.ImportJob{}
	for _, j := range all {
		if j.UserID == actor.ID || actor.IsAdmin() {
			jj, err := s.revive(ctx, &j)
			if err != nil {
				return nil, err
			}
			out = append(out, *jj)
		}
	}
	return out, nil
}

// Watch revives, every interval until ctx ends, the imports whose process
// stopped (a crash, a kill, a restart), so they resume by themselves rather
// than when someone next opens them.
func (s *Service) Watch(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		all, err := s.Store.ListImports(ctx, 200)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("watching imports", "err", err)
			}
			continue
		}
		for i := range all {
			if _, err := s.revive(ctx, &all[i]); err != nil && ctx.Err() == nil {
				log.Error("resuming an import", "import", all[i].ID, "err", err)
			}
		}
	}
}

// revive re-enqueues an import whose runner stopped saving batches. Taking
// the import over (a new runner token) makes a late original unable to
// commit, so at most one process ever writes it.
func (s *Service) revive(ctx context.Context, j *crm.ImportJob) (*crm.ImportJob, error) {
	if (j.Status != crm.ImportRunning && j.Status != crm.ImportQueued) || s.Enqueue == nil || s.now().Sub(j.UpdatedAt) < StaleAfter {
		return j, nil
	}
	nj, err := s.Store.ClaimImport(ctx, j.ID, "revive-"+token(), s.now())
	if errors.Is(err, crm.ErrConflict) {
		return s.Store.GetImport(ctx, j.ID)
	}
	if err != nil {
		return nil, err
	}
	return nj, s.Enqueue(ctx, j.ID)
}

// unsubmitted returns an import the actor may still change (refused with
// refusal once submitted), with its file's format and the catalog.
func (s *Service) unsubmitted(ctx context.Context, actor *crm.User, id int64, refusal string) (*crm.ImportJob, *Format, *Catalog, error) {
	j, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if j.Status != crm.ImportUploaded {
		return nil, nil, nil, crm.Conflict("%s", refusal)
	}
	local, err := s.local(ctx, j)
	if err != nil {
		return nil, nil, nil, err
	}
	format, err := Sniff(local)
	if err != nil {
		return nil, nil, nil, err
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return j, format, cat, nil
}

// SetMapping changes the mapping and mode of an import not yet submitted.
func (s *Service) SetMapping(ctx context.Context, actor *crm.User, id int64, mapping map[string]string, mode string) (*crm.ImportJob, error) {
	j, format, cat, err := s.unsubmitted(ctx, actor, id, "The import was already submitted; its mapping can no longer change.")
	if err != nil {
		return nil, err
	}
	if mode == "" {
		mode = j.Mode
	}
	if !ValidMode(mode) {
		return nil, crm.Invalid("mode", "%q is not a mode (use create, upsert or update).", mode)
	}
	m := map[string]string{} // the columns not named keep their current target
	for _, c := range format.Columns {
		m[c] = j.Mapping[c]
	}
	for c, t := range mapping {
		m[c] = t
	}
	if err := CheckMapping(format.Columns, m, cat); err != nil {
		return nil, err
	}
	j.Mapping, j.Mode, j.UpdatedAt = m, mode, s.now()
	return j, s.Store.UpdateImport(ctx, j)
}

// Setup is what the mapping step shows of an import not yet submitted: the
// targets with their human names and the first two values of each column.
func (s *Service) Setup(ctx context.Context, j *crm.ImportJob) ([]Target, map[string][]string, error) {
	local, err := s.local(ctx, j)
	if err != nil {
		return nil, nil, err
	}
	f, err := Sniff(local)
	if err != nil {
		return nil, nil, err
	}
	samples, err := Samples(local, f, 2)
	if err != nil {
		return nil, nil, err
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	return TargetList(cat), samples, nil
}

// Columns returns the columns of an import's file, in file order.
func (s *Service) Columns(j *crm.ImportJob) ([]string, error) {
	if j.Header != nil { // kept since the header was (migration 00011)
		return j.Header, nil
	}
	f, err := Sniff(j.Path)
	if err != nil {
		return nil, err
	}
	return f.Columns, nil
}

// Counts are the preview's figures for the whole file.
type Counts struct {
	Rows       int64 `json:"rows"`
	Valid      int64 `json:"valid"`
	Failing    int64 `json:"failing"`
	Duplicates int64 `json:"duplicates"` // rows whose e-mail an earlier row of the file has
	Existing   int64 `json:"existing"`   // valid rows whose e-mail an active customer has
}

// PreviewRow is a row as it will be stored, with what will happen to it.
type PreviewRow struct {
	*Row
	Action string `json:"action"` // create, update, skip, fail
}

// Preview checks the whole file with the current mapping: the first rows as
// they will be stored, and counts for every row. It reads the file once,
// keeping only 8 bytes per distinct e-mail.
func (s *Service) Preview(ctx context.Context, actor *crm.User, id int64, first int) ([]PreviewRow, *Counts, error) {
	j, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	local, err := s.local(ctx, j)
	if err != nil {
		return nil, nil, err
	}
	format, err := Sniff(local)
	if err != nil {
		return nil, nil, err
	}
	ck, err := s.checker(ctx, actor, format, j)
	if err != nil {
		return nil, nil, err
	}
	rows, err := OpenRows(local, format, format.DataOffset)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []PreviewRow
	c := &Counts{}
	seen := map[uint64]int64{}
	var pending []string
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		m, err := s.Store.ImportMatches(ctx, pending)
		c.Existing += int64(len(m))
		pending = pending[:0]
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		rec, _, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !isTooBig(err) {
			return nil, nil, err
		}
		c.Rows++
		r := ck.row(c.Rows, rec, err)
		action := "create"
		if len(r.Errors) > 0 {
			c.Failing++
			action = "fail"
		} else {
			c.Valid++
		}
		if r.Email != "" && len(r.Errors) == 0 {
			h := fnv.New64a()
			h.Write([]byte(r.Email))
			k := h.Sum64()
			if earlier, dup := seen[k]; dup {
				c.Duplicates++
				if j.Mode == ModeCreate {
					action = "skip"
					r.Warnings = append(r.Warnings, fmt.Sprintf("Same e-mail as row %d: skipped.", earlier))
				} else {
					action = "update"
					r.Warnings = append(r.Warnings, fmt.Sprintf("Same e-mail as row %d: updates that customer.", earlier))
				}
			} else {
				seen[k] = c.Rows
				pending = append(pending, r.Email)
			}
		}
		if len(out) < first {
			if action != "fail" && r.Email != "" {
				if m, err := s.Store.ImportMatches(ctx, []string{r.Email}); err != nil {
					return nil, nil, err
				} else if cid, ok := m[r.Email]; ok && action == "create" {
					switch j.Mode {
					case ModeCreate:
						action = "skip"
						r.Warnings = append(r.Warnings, fmt.Sprintf("Customer #%d has this e-mail: skipped.", cid))
					default:
						action = "update"
						r.Warnings = append(r.Warnings, fmt.Sprintf("Updates customer #%d, who has this e-mail.", cid))
					}
				}
			}
			if action == "create" && j.Mode == ModeUpdate {
				action = "skip"
				r.Warnings = append(r.Warnings, "No customer has this e-mail: skipped (update only).")
			}
			out = append(out, PreviewRow{Row: r, Action: action})
		}
		if len(pending) >= 500 {
			if err := flush(); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, nil, err
	}
	if out == nil {
		out = []PreviewRow{}
	}
	return out, c, nil
}

// Submit starts the import in the background.
func (s *Service) Submit(ctx context.Context, actor *crm.User, id int64) (*crm.ImportJob, error) {
	j, format, cat, err := s.unsubmitted(ctx, actor, id, "The import was already submitted.")
	if err != nil {
		return nil, err
	}
	if err := CheckMapping(format.Columns, j.Mapping, cat); err != nil {
		return nil, err
	}
	j.Status, j.UpdatedAt = crm.ImportQueued, s.now()
	if err := s.Store.UpdateImport(ctx, j); err != nil {
		return nil, err
	}
	if s.Enqueue == nil {
		return j, nil
	}
	return j, s.Enqueue(ctx, j.ID)
}

// Cancel stops an import; the batches already saved stay, counted.
func (s *Service) Cancel(ctx context.Context, actor *crm.User, id int64) (*crm.ImportJob, error) {
	j, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.Store.CancelImport(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, crm.Conflict("The import has already ended (%s).", j.Status)
	}
	if j, err = s.Store.GetImport(ctx, id); err != nil {
		return nil, err
	}
	// a runner still reading the file stops at its next batch, which the
	// cancel refuses; on the systems we run on it reads on until then
	return j, s.release(ctx, j)
}

// ErrorReport writes the failed rows as CSV: row, error, then the file's columns.
func (s *Service) ErrorReport(ctx context.Context, actor *crm.User, id int64, w io.Writer) error {
	j, err := s.Get(ctx, actor, id)
	if err != nil {
		return err
	}
	cols := j.Header // kept: the file is deleted when the import ends
	if cols == nil {
		cols = []string{}
		if f, err := Sniff(j.Path); err == nil { // an import from before the header was kept
			cols = f.Columns
		}
	}
	return writeReport(ctx, s.Store, j.ID, cols, w)
}

func (s *Service) catalog(ctx context.Context) (*Catalog, error) {
	cat := &Catalog{Products: map[string]crm.Product{}, Fields: map[string]crm.CustomField{}, Segments: map[int64]crm.Segment{},
		Users: map[string]crm.User{}}
	ps, err := s.Store.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		cat.Products[p.Key] = p
	}
	fs, err := s.Store.ListCustomFields(ctx, false)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		cat.Fields[f.Key] = f
	}
	ss, err := s.Store.ListSegments(ctx)
	if err != nil {
		return nil, err
	}
	for _, sg := range ss {
		cat.Segments[sg.ID] = sg
	}
	us, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		cat.Users[strings.ToLower(u.Email)] = u
	}
	return cat, nil
}

func (s *Service) checker(ctx context.Context, actor *crm.User, f *Format, j *crm.ImportJob) (*checker, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	return &checker{cat: cat, actor: actor, plan: newPlan(f.Columns, j.Mapping)}, nil
}

func token() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
