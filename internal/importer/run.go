package importer

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/metrics"
)

// maxBatchBytes also closes a batch, so that rows with huge cells do not
// pile up in memory.
const maxBatchBytes = 16 << 20

// maxReportCell bounds one cell kept in the error report.
const maxReportCell = 64 << 10

// Run imports a queued (or interrupted) import from its saved position to
// the end. The rows and the import's counters and position are written in
// the same transactions, so a crash at any moment loses nothing and repeats
// nothing. progress is called after every transaction. Run returns nil when
// there is nothing to do (ended, canceled, taken over by another process).
func (s *Service) Run(ctx context.Context, id int64, progress func(crm.ImportJob)) error {
	runner := token()
	j, err := s.Store.ClaimImport(ctx, id, runner, s.now())
	if errors.Is(err, crm.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	actor, err := s.Store.GetUser(ctx, j.UserID)
	if err != nil {
		return err
	}
	fail := func(cause error) error {
		j.Status, j.Error = crm.ImportFailed, msg(cause)
		now := s.now()
		j.UpdatedAt, j.EndedAt = now, &now
		err := s.Store.SaveImportProgress(ctx, j, runner)
		if err != nil && !errors.Is(err, crm.ErrConflict) {
			return err
		}
		if progress != nil {
			progress(*j)
		}
		if err != nil {
			return nil // canceled or taken over meanwhile: not ours to end
		}
		return s.release(ctx, j)
	}
	local, err := s.local(ctx, j)
	if errors.Is(err, errUploadGone) {
		return fail(err)
	}
	if err != nil {
		return err // the database did not answer: the job tries again
	}
	format, err := Sniff(local)
	if err != nil {
		return fail(err)
	}
	ck, err := s.checker(ctx, actor, format, j)
	if err != nil {
		return err
	}
	if j.Offset == 0 {
		j.Offset = format.DataOffset
	}
	if j.Total == 0 {
		if j.Total, err = countRows(local, format); err != nil {
			return fail(err)
		}
	}
	rows, err := OpenRows(local, format, j.Offset)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	batch := make([]*Row, 0, s.BatchRows)
	for {
		stop, readErr, err := s.commitTx(ctx, j, actor, runner, ck, rows, batch)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(*j)
		}
		if stop {
			return nil
		}
		if errors.Is(readErr, io.EOF) {
			break
		}
		if readErr != nil {
			if crm.CodeOf(readErr) == crm.CodeInvalid {
				return fail(readErr)
			}
			return readErr
		}
		// let whoever waited for the database meanwhile go first: SQLite
		// has one writer connection, which database/sql hands to a waiter
		// picked at random, so that without this pause River's leader
		// election could lose it to the next transaction twice running
		// and time out
		select {
		case <-time.After(txPause):
		case <-ctx.Done():
			return ctx.Err() // a shutdown: the job runs again from the saved position
		}
	}
	j.Status = crm.ImportDone
	now := s.now()
	j.UpdatedAt, j.EndedAt = now, &now
	j.Total = j.Processed
	if err := s.Store.SaveImportProgress(ctx, j, runner); err != nil {
		if errors.Is(err, crm.ErrConflict) {
			return nil
		}
		return err
	}
	if progress != nil {
		progress(*j)
	}
	if err := s.release(ctx, j); err != nil {
		return fmt.Errorf("import %d is done; deleting its file: %w", j.ID, err)
	}
	// the customer table's queries, and the next import's look-ups, are
	// planned from statistics that a big import leaves far behind
	if j.Created+j.Updated >= s.AnalyzeRows {
		if err := s.Store.RefreshStatistics(ctx); err != nil {
			return fmt.Errorf("import %d is done; refreshing the planner's statistics: %w", j.ID, err)
		}
	}
	// the match keys of the companies it created, so that the next visit of
	// the company duplicates does not compute them all (3 s for 50,000)
	if err := s.Store.RefreshCompanyKeys(ctx); err != nil {
		return fmt.Errorf("import %d is done; computing its new companies' match keys: %w", j.ID, err)
	}
	return nil
}

// txTime bounds how long one transaction of an import goes on reading
// batches, so that progress shows and a slow database still commits well
// within StaleAfter.
const txTime = 2 * time.Second

// txPause is how long an import leaves the database to others between two
// transactions (under 1 % of one).
const txPause = 20 * time.Millisecond

// commitTx reads and writes batches of rows in one transaction, until it
// holds TxRows rows or has run for txTime, and saves the import's new
// counters and position in the same transaction. Memory holds one batch;
// the transaction holds several because every commit rewrites the index
// pages it changed, and the rows of an import change them all over.
//
// It reports stop when the import was canceled or taken over (the
// transaction is then rolled back, uncounted and unwritten), and the error
// that ended the reading (io.EOF at the end of the file) after committing
// the rows before it.
func (s *Service) commitTx(ctx context.Context, j *crm.ImportJob, actor *crm.User, runner string, ck *checker, rows *Rows,
	batch []*Row) (stop bool, readErr error, err error) {
	began := time.Now()
	next := *j
	// a transaction begun commits (ctx ending, a cancel or the end of a
	// job's slice, ends it after its current batch) rather than losing
	// its work
	stopped := ctx
	ctx = context.WithoutCancel(ctx)
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		for n := int64(0); n < int64(max(s.TxRows, 1)) && (n == 0 || time.Since(began) < txTime && stopped.Err() == nil); {
			batch = batch[:0]
			var end int64
			var size int
			for len(batch) < s.BatchRows && size < maxBatchBytes {
				rec, off, err := rows.Next()
				if err != nil && !isTooBig(err) {
					readErr = err
					break
				}
				r := ck.row(next.Processed+int64(len(batch))+1, rec, err)
				for _, c := range rec {
					size += len(c)
				}
				batch = append(batch, r)
				end = off
			}
			if len(batch) > 0 {
				res, err := s.applyBatch(ctx, tx, j, actor, ck.cat, batch)
				if err != nil {
					return err
				}
				next.Created += res.created
				next.Updated += res.updated
				next.Skipped += res.skipped
				next.Failed += int64(len(res.errors))
				next.Processed += int64(len(batch))
				next.Offset = end
				if err := tx.AddImportErrors(ctx, j.ID, res.errors); err != nil {
					return err
				}
				n += int64(len(batch))
			}
			if readErr != nil {
				break
			}
		}
		if next.Processed == j.Processed {
			return nil // nothing read
		}
		next.UpdatedAt = s.now()
		if next.Processed > next.Total {
			next.Total = next.Processed
		}
		return tx.SaveImportProgress(ctx, &next, runner)
	})
	if errors.Is(err, crm.ErrConflict) {
		cur, gerr := s.Store.GetImport(ctx, j.ID)
		if gerr == nil {
			*j = *cur
		}
		return true, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	countRowsDone(j, &next)
	*j = next
	return false, readErr, nil
}

// countRowsDone adds the rows a committed transaction took the import from
// was to now to crm_import_rows_total.
func countRowsDone(was, now *crm.ImportJob) {
	for result, n := range map[string]int64{"created": now.Created - was.Created, "updated": now.Updated - was.Updated,
		"skipped": now.Skipped - was.Skipped, "failed": now.Failed - was.Failed} {
		if n > 0 {
			metrics.ImportRows.WithLabelValues(result).Add(float64(n))
		}
	}
}

type batchResult struct {
	created, updated, skipped int64
	errors                    []crm.ImportError
}

// applyBatch decides each row (create, update, skip, fail) and writes it.
func (s *Service) applyBatch(ctx context.Context, tx crm.Store, j *crm.ImportJob, actor *crm.User, cat *Catalog, batch []*Row) (*batchResult, error) {
	res := &batchResult{}
	failRow := func(r *Row, reason string) {
		res.errors = append(res.errors, crm.ImportError{Row: r.Num, Error: reason, Values: reportCells(r.Cells)})
	}
	var emails []string
	for _, r := range batch {
		if len(r.Errors) == 0 && r.Email != "" {
			emails = append(emails, r.Email)
		}
	}
	matches, err := tx.ImportMatches(ctx, emails)
	if err != nil {
		return nil, err
	}
	var creates []*Row
	var updates []*Row
	updateOf := map[*Row]int64{}
	pending := map[string]*Row{}
	for _, r := range batch {
		if len(r.Errors) > 0 {
			failRow(r, strings.Join(r.Errors, " "))
			continue
		}
		if first, ok := pending[r.Email]; ok && r.Email != "" {
			if j.Mode == ModeCreate {
				res.skipped++
				continue
			}
			first.merge(r)
			res.updated++
			continue
		}
		if cid, ok := matches[r.Email]; ok && r.Email != "" {
			if j.Mode == ModeCreate {
				res.skipped++
				continue
			}
			updates = append(updates, r)
			updateOf[r] = cid
			continue
		}
		if j.Mode == ModeUpdate {
			res.skipped++
			continue
		}
		creates = append(creates, r)
		if r.Email != "" {
			pending[r.Email] = r
		}
	}
	// companies and tags of every row written, found or created once per batch
	var companies, tagNames []string
	for _, list := range [][]*Row{creates, updates} {
		for _, r := range list {
			if r.Company != "" {
				companies = append(companies, r.Company)
			}
			tagNames = append(tagNames, r.Tags...)
		}
	}
	now := s.now()
	companyIDs, err := tx.EnsureCompanies(ctx, companies, now)
	if err != nil {
		return nil, err
	}
	tagIDs := map[string]int64{}
	if len(tagNames) > 0 {
		ts, err := tx.EnsureTags(ctx, tagNames, now)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			tagIDs[crm.NameKey(t.Name)] = t.ID
		}
	}
	created, err := json.Marshal(map[string]any{"source": "import", "import_id": j.ID})
	if err != nil {
		return nil, err
	}
	out := make([]crm.ImportedCustomer, 0, len(creates))
	for _, r := range creates {
		c := crm.ImportedCustomer{Customer: crm.NewCustomer{FullName: r.FullName, FirstName: r.FirstName, LastName: r.LastName,
			OwnerID: r.OwnerID, Language: r.Language, Country: r.Country, Timezone: r.Timezone, CreatedAt: now},
			CompanyName: r.Company, SegmentID: r.SegmentID, ActorID: &actor.ID, Activity: string(created)}
		if r.Company != "" {
			id := companyIDs[crm.NameKey(r.Company)]
			c.Customer.CompanyID = &id
		}
		c.Contacts = r.Contacts() // the first of each channel is its primary
		for _, t := range r.Tags {
			c.TagIDs = append(c.TagIDs, tagIDs[crm.NameKey(t)])
		}
		for k, v := range r.Scores {
			if c.Scores == nil {
				c.Scores = map[int64]int{}
			}
			c.Scores[cat.Products[k].ID] = v
		}
		for k, v := range r.Custom {
			if c.Custom == nil {
				c.Custom = map[int64]string{}
			}
			c.Custom[cat.Fields[k].ID] = v
		}
		out = append(out, c)
	}
	if err := tx.InsertImported(ctx, out, now); err != nil {
		return nil, err
	}
	res.created += int64(len(out))
	// the customers the updates change, read in one go; one met again in
	// the same batch is read again, with the earlier row's changes
	ids := make([]int64, len(updates))
	for i, r := range updates {
		ids[i] = updateOf[r]
	}
	loaded, err := tx.GetCustomers(ctx, ids)
	if err != nil {
		return nil, err
	}
	current := make(map[int64]*crm.Customer, len(loaded))
	for _, c := range loaded {
		current[c.ID] = c
	}
	logged := make([]crm.Activity, 0, len(updates))
	for _, r := range updates {
		id := updateOf[r]
		c, ok := current[id]
		if !ok {
			if c, err = tx.GetCustomer(ctx, id); err != nil {
				return nil, err
			}
		}
		delete(current, id)
		entry, reason, err := s.update(ctx, tx, j, actor, cat, c, r, companyIDs, tagIDs)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			failRow(r, reason)
			continue
		}
		logged = append(logged, entry)
		res.updated++
	}
	if err := tx.AddActivities(ctx, logged); err != nil {
		return nil, err
	}
	return res, nil
}

// update applies a row to an existing customer c: the values the row gives
// replace the customer's, contacts, tags and the segment are added when
// missing. It returns the activity entry that logs the row, for the caller
// to write with the batch's, or a reason when the row may not be applied
// (nothing is written then).
func (s *Service) update(ctx context.Context, tx crm.Store, j *crm.ImportJob, actor *crm.User, cat *Catalog, c *crm.Customer, r *Row,
	companyIDs, tagIDs map[string]int64) (crm.Activity, string, error) {
	id := c.ID
	now := s.now()
	none := crm.Activity{}
	changeOwner := r.OwnerID != nil && (c.Owner == nil || c.Owner.ID != *r.OwnerID)
	if changeOwner && c.Owner != nil && !actor.IsAdmin() {
		return none, fmt.Sprintf("owner_email: customer #%d belongs to %s; only an admin can reassign.", id, c.Owner.Name), nil
	}
	var p crm.CustomerPatch
	fields := []string{}
	set := func(t string, v string, cur string, dst **string) {
		if r.set[t] && v != cur {
			vv := v
			*dst = &vv
			fields = append(fields, t)
		}
	}
	set("first_name", r.FirstName, c.FirstName, &p.FirstName)
	set("last_name", r.LastName, c.LastName, &p.LastName)
	if (r.set["full_name"] || r.set["first_name"] || r.set["last_name"]) && r.FullName != c.FullName {
		fn := r.FullName
		p.FullName = &fn
		fields = append(fields, "full_name")
	}
	set("language", r.Language, c.Language, &p.Language)
	set("country", r.Country, c.Country, &p.Country)
	set("timezone", r.Timezone, c.Timezone, &p.Timezone)
	if r.Company != "" {
		cid := companyIDs[crm.NameKey(r.Company)]
		if c.Company == nil || c.Company.ID != cid {
			pc := &cid
			p.CompanyID = &pc
			fields = append(fields, "company_name")
		}
	}
	if !p.Empty() {
		if err := tx.UpdateCustomer(ctx, id, p, now); err != nil {
			return none, "", err
		}
	}
	have := map[string]bool{}
	for _, k := range c.Contacts {
		have[string(k.Channel)+" "+k.Value] = true
	}
	for _, k := range r.Contacts() { // the ones it lacks, as additional contacts
		if !have[string(k.Channel)+" "+k.Value] {
			have[string(k.Channel)+" "+k.Value] = true
			if err := tx.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: k.Channel, Value: k.Value}, now); err != nil {
				return none, "", err
			}
			if !slices.Contains(fields, string(k.Channel)) {
				fields = append(fields, string(k.Channel))
			}
		}
	}
	hasTag := map[string]bool{}
	for _, t := range c.Tags {
		hasTag[crm.NameKey(t)] = true
	}
	var newTags []int64
	for _, t := range r.Tags {
		if !hasTag[crm.NameKey(t)] {
			newTags = append(newTags, tagIDs[crm.NameKey(t)])
		}
	}
	if len(newTags) > 0 {
		n, err := tx.AddCustomerTags(ctx, id, newTags, now)
		if err != nil {
			return none, "", err
		}
		if n > 0 {
			fields = append(fields, "tags")
		}
	}
	if r.SegmentID != nil && !slices.Contains(c.Segments, *r.SegmentID) {
		n, err := tx.AddSegmentMembers(ctx, *r.SegmentID, []int64{id}, now)
		if err != nil {
			return none, "", err
		}
		if n > 0 {
			fields = append(fields, "segment_id")
		}
	}
	for k, v := range r.Scores {
		if cur, ok := c.Scores[k]; !ok || cur != v {
			vv := v
			if err := tx.SetScore(ctx, id, cat.Products[k].ID, &vv, now); err != nil {
				return none, "", err
			}
			fields = append(fields, "score:"+k)
		}
	}
	for k, v := range r.Custom {
		if cur, ok := c.Custom[k]; ok && sameJSON(v, cur) {
			continue
		}
		vv := v
		if err := tx.SetCustomValue(ctx, id, cat.Fields[k].ID, &vv, now); err != nil {
			return none, "", err
		}
		fields = append(fields, "custom:"+k)
	}
	if changeOwner {
		if _, err := tx.SetOwner(ctx, id, r.OwnerID, crm.OwnerExpectation{Any: true}, now); err != nil {
			return none, "", err
		}
		var from any
		if c.Owner != nil {
			from = c.Owner.ID
		}
		changed, err := activity(actor, id, crm.ActOwnerChanged, map[string]any{"from": from, "to": *r.OwnerID, "source": "import"}, now)
		if err == nil {
			err = tx.AddActivity(ctx, &changed)
		}
		if err != nil {
			return none, "", err
		}
	}
	imported, err := activity(actor, id, crm.ActImported, map[string]any{"import_id": j.ID, "row": r.Num, "fields": fields}, now)
	return imported, "", err
}

// sameJSON reports whether raw, a custom value as JSON text, decodes to cur,
// the customer's value as the store decoded it.
func sameJSON(raw string, cur any) bool {
	var v any
	return json.Unmarshal([]byte(raw), &v) == nil && reflect.DeepEqual(v, cur)
}

// activity is an activity entry by actor about customer id.
func activity(actor *crm.User, id int64, kind string, data any, now time.Time) (crm.Activity, error) {
	b, err := json.Marshal(data)
	return crm.Activity{CustomerID: id, Actor: &crm.UserRef{ID: actor.ID, Name: actor.Name, Email: actor.Email},
		Kind: kind, Data: b, At: now}, err
}

// countRows counts the data rows of a file (for progress and time left).
func countRows(path string, f *Format) (int64, error) {
	rows, err := OpenRows(path, f, f.DataOffset)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for {
		_, _, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil && !isTooBig(err) {
			return n, err
		}
		n++
	}
}

// reportCells copies a row's cells for the error report, cutting huge ones.
func reportCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		if len(c) > maxReportCell {
			cut := maxReportCell
			for cut > 0 && !utf8RuneStart(c[cut]) {
				cut--
			}
			c = c[:cut] + fmt.Sprintf("… [cut: %d bytes in the file]", len(c))
		}
		out[i] = c
	}
	return out
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// writeReport writes the error report CSV, paging through the stored rows.
// It is opened in spreadsheets: every cell of the file, header included, is
// neutralised as the export does, so that none runs as a formula.
func writeReport(ctx context.Context, st crm.Store, id int64, cols []string, w io.Writer) error {
	cw := csv.NewWriter(w)
	line := func(row, reason string, cells []string) error {
		rec := make([]string, 0, 2+len(cells))
		rec = append(rec, row, crm.SafeCell(reason))
		for _, c := range cells {
			rec = append(rec, crm.SafeCell(c))
		}
		return cw.Write(rec)
	}
	if err := line("row", "error", cols); err != nil {
		return err
	}
	var after int64
	for {
		errs, err := st.ListImportErrors(ctx, id, after, 1000)
		if err != nil {
			return err
		}
		for _, e := range errs {
			if err := line(strconv.FormatInt(e.Row, 10), e.Error, e.Values); err != nil {
				return err
			}
			after = e.Row
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(errs) < 1000 {
			return nil
		}
	}
}
