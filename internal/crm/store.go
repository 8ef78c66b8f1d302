package crm

import (
	"context"
	"time"
)

// Store is the persistence of the whole module. Two implementations exist
// (SQLite and PostgreSQL) and both pass the same contract suite
// (internal/store/storetest). A store runs SQL and nothing else: the rules
// live in the services.
type Store interface {
	// Engine names the database engine: "sqlite" or "postgres".
	Engine() string
	// InTx runs fn in one transaction: every call on the Store it is given is
	// part of it; an error or panic rolls everything back.
	InTx(ctx context.Context, fn func(tx Store) error) error
	Close() error

	UserStore
	SessionStore
	CustomerStore
	ContactStore
	CatalogStore
	RecordStore
	ImportStore
	BulkUndoStore
	AvatarStore
	ViewStore
	CompanyMergeStore
	ChangeStore
	WebhookStore
}

// UserStore keeps users, API tokens, per-user preferences and sign-in failures.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error // sets ID; Conflict when the e-mail is taken
	GetUser(ctx context.Context, id int64) (*User, error)
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	ListUsers(ctx context.Context) ([]User, error)
	// LockAdmins locks the rows of the active admins until the transaction
	// ends (engines whose writers run one at a time need not), so that a
	// rule on how many there are holds where a user is written.
	LockAdmins(ctx context.Context) error
	CountUsers(ctx context.Context) (int, error)
	UpdateUser(ctx context.Context, id int64, p UserPatch, now time.Time) (*User, error)

	CreateAPIToken(ctx context.Context, t *APIToken) error
	// UserByTokenHash returns the active user owning a live token and marks it used.
	UserByTokenHash(ctx context.Context, hash []byte, now time.Time) (*User, error)
	ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error)
	RevokeAPIToken(ctx context.Context, userID, tokenID int64, now time.Time) error

	// Setting returns an application setting, creating it with make() when
	// missing; concurrent first calls all get the one value stored.
	Setting(ctx context.Context, key string, make func() (string, error)) (string, error)

	GetUserPref(ctx context.Context, userID int64, key string) (string, error) // "" when unset
	SetUserPref(ctx context.Context, userID int64, key, value string) error

	RecordLoginFailure(ctx context.Context, email, ip string, at time.Time) error
	// CountLoginFailures counts the failed sign-ins of the pair (email, ip)
	// since pairSince, with the latest one, and those from ip since ipSince.
	CountLoginFailures(ctx context.Context, email, ip string, pairSince, ipSince time.Time) (LoginFailures, error)
	// ClearLoginFailures forgets the pair's failures (after a sign-in that succeeded).
	ClearLoginFailures(ctx context.Context, email, ip string) error
}

// SessionStore backs web sessions (the scs Store contract).
type SessionStore interface {
	SessionFind(ctx context.Context, token string, now time.Time) ([]byte, bool, error)
	SessionCommit(ctx context.Context, token string, data []byte, expiry time.Time) error
	SessionDelete(ctx context.Context, token string) error
	SessionDeleteExpired(ctx context.Context, now time.Time) error
}

// CustomerStore keeps customers and their tags, segments, scores and custom values.
type CustomerStore interface {
	CreateCustomer(ctx context.Context, c NewCustomer) (int64, error)
	// GetCustomer returns one customer whole, with contacts.
	GetCustomer(ctx context.Context, id int64) (*Customer, error)
	// GetCustomers returns whole customers as GetCustomer does, in id order,
	// leaving out ids that are no customer: one read for a batch of them.
	GetCustomers(ctx context.Context, ids []int64) ([]*Customer, error)
	UpdateCustomer(ctx context.Context, id int64, p CustomerPatch, now time.Time) error
	// SetOwner changes the owner when the current owner equals expect (nil =
	// unclaimed) or when expect is AnyOwner. It reports whether it changed.
	SetOwner(ctx context.Context, id int64, owner *int64, expect OwnerExpectation, now time.Time) (bool, error)
	SetArchived(ctx context.Context, id int64, archivedAt *time.Time, mergedInto *int64, now time.Time) error
	FindCustomers(ctx context.Context, q CustomerQuery) (*CustomerPage, error)

	AddCustomerTags(ctx context.Context, customerID int64, tagIDs []int64, now time.Time) (added int, err error)
	RemoveCustomerTag(ctx context.Context, customerID, tagID int64, now time.Time) (bool, error)
	SetScore(ctx context.Context, customerID, productID int64, score *int, now time.Time) error
	// SetCustomValue stores a custom value as JSON text; nil clears it.
	SetCustomValue(ctx context.Context, customerID, fieldID int64, jsonValue *string, now time.Time) error
	AddSegmentMembers(ctx context.Context, segmentID int64, customerIDs []int64, now time.Time) (added int, err error)

	// Set-based work for bulk actions and merges, over at most a few
	// thousand ids per call; rules stay in the service.

	// CustomerStates returns owner, archived and merged state of customers.
	CustomerStates(ctx context.Context, ids []int64) (map[int64]CustomerState, error)
	// CustomerIDs pages through the ids matching a filter in id order.
	CustomerIDs(ctx context.Context, f CustomerFilter, afterID int64, limit int) ([]int64, error)
	// LockCustomers, inside a transaction, waits for and then holds the
	// rows of these customers until the transaction ends, taking them in id
	// order so that two transactions never wait for each other; reads that
	// follow see them as they are now. Merged customers are not locked
	// (they never change again). (PostgreSQL: FOR UPDATE; SQLite's write
	// transactions already run one at a time.)
	LockCustomers(ctx context.Context, ids []int64) error
	// BulkSetOwner sets the owner of those of ids that are active (neither
	// archived nor merged) and whose owner is what expect says, and returns
	// the ids it changed, in order.
	BulkSetOwner(ctx context.Context, ids []int64, owner *int64, expect OwnerExpectation, now time.Time) ([]int64, error)
	// BulkSetArchived archives (archivedAt set) those of ids that are active,
	// or restores (nil) those archived and not merged, in both cases only
	// where the owner is what expect says, and returns the ids it changed.
	BulkSetArchived(ctx context.Context, ids []int64, archivedAt *time.Time, expect OwnerExpectation, now time.Time) ([]int64, error)
	// BulkAddTag tags customers and returns those that did not have the tag.
	BulkAddTag(ctx context.Context, ids []int64, tagID int64, now time.Time) ([]int64, error)
	// SegmentMembersAmong returns which of ids are members of the segment.
	SegmentMembersAmong(ctx context.Context, segmentID int64, ids []int64) ([]int64, error)
	AddActivities(ctx context.Context, as []Activity) error
	// AddActivityFor writes the same entry (a's actor, kind, data and time)
	// for each of many customers (a bulk action).
	AddActivityFor(ctx context.Context, customerIDs []int64, a Activity) error
	// MergeInto moves everything of the secondaries to the primary: contacts
	// (the same channel and value collapse into one, which stays suppressed
	// with its history if either was), deals, notes, tasks and messages, tags
	// and segment memberships; then archives the secondaries with merged_into
	// (customers merged into a secondary before now point at the primary).
	// Conflict when the primary or a secondary is no longer active.
	MergeInto(ctx context.Context, primaryID int64, secondaryIDs []int64, now time.Time) error
	// AddBulkSkips and ListBulkSkips keep why a bulk job left customers alone.
	AddBulkSkips(ctx context.Context, jobID int64, skips []BulkSkip) error
	ListBulkSkips(ctx context.Context, jobID, afterCustomer int64, limit int) ([]BulkSkip, error)
	RemoveSegmentMembers(ctx context.Context, segmentID int64, customerIDs []int64) (removed int, err error)

	// Background jobs that resume after a crash.

	// JobCheckpoint returns where a job stands: the last id done and its
	// state (0 and nil before the first checkpoint).
	JobCheckpoint(ctx context.Context, jobID int64) (afterID int64, state []byte, err error)
	// SaveJobCheckpoint moves a job's checkpoint from prevAfter to afterID;
	// a conflict when it is no longer at prevAfter (another run of the job
	// moved it). Call it in the transaction of the work it records.
	SaveJobCheckpoint(ctx context.Context, jobID, prevAfter, afterID int64, state []byte, now time.Time) error
	// SegmentDeliveries returns the delivery status of each of customerIDs a
	// segment send job has already handled.
	SegmentDeliveries(ctx context.Context, jobID int64, customerIDs []int64) (map[int64]string, error)
	// ClaimDelivery records a customer (and the contact written to) as handled
	// by the job, before anything is sent; false when the customer or the
	// contact already has a row for this job.
	ClaimDelivery(ctx context.Context, jobID, customerID int64, contactID *int64, status string, now time.Time) (bool, error)
	SetDeliveryStatus(ctx context.Context, jobID, customerID int64, status string) error
	// DeliveryCounts counts a send job's deliveries by status.
	DeliveryCounts(ctx context.Context, jobID int64) (map[string]int, error)
}

// PairKey names two customers, A < B.
type PairKey struct{ A, B int64 }

// DuplicatePair is two active customers sharing contact values.
type DuplicatePair struct {
	A       CustomerRef     `json:"a"`
	B       CustomerRef     `json:"b"`
	Reasons []SharedContact `json:"reasons"` // by channel, then value
}

// SharedContact is one contact value both customers of a pair hold.
type SharedContact struct {
	Channel Channel `json:"channel"`
	Value   string  `json:"value"`
}

// BulkSkip is one customer a bulk job left alone, and why.
type BulkSkip struct {
	CustomerID int64
	Name       string
	Reason     string
}

// CustomerState is what bulk rules look at.
type CustomerState struct {
	Owner      *UserRef
	Archived   bool
	ArchivedAt *time.Time // when archived (what a bulk restore's undo puts back)
	MergedInto *int64
	Name       string
}

// OwnerExpectation is the condition of a conditional owner change.
type OwnerExpectation struct {
	Any    bool   // change whoever owns it
	UserID *int64 // nil = must be unclaimed
}

// ContactStore keeps contacts and their suppression state and history.
type ContactStore interface {
	// AddContact inserts a contact (value already normalised). The first
	// contact of a channel becomes primary. Conflict when the customer already
	// has that channel and value.
	AddContact(ctx context.Context, c *Contact, now time.Time) error
	GetContact(ctx context.Context, id int64) (*Contact, error)
	// GetContactEver returns a contact, removed or not (with the value it
	// had when removed).
	GetContactEver(ctx context.Context, id int64) (*Contact, error)
	UpdateContactValue(ctx context.Context, id int64, value string, now time.Time) error
	// MakePrimary makes the contact the only primary of its channel on its customer.
	MakePrimary(ctx context.Context, id int64, now time.Time) error
	// RemoveContact takes a contact off its customer (kept for the audit
	// trail; its address's suppression stays); another contact of the
	// channel becomes primary.
	RemoveContact(ctx context.Context, id int64, now time.Time) error
	FindContactsByValue(ctx context.Context, ch Channel, value string) ([]Contact, error)
	// DuplicatePairs lists pairs of active customers (A.ID < B.ID) that share
	// at least one live e-mail, phone or LinkedIn value, one entry per pair
	// with every shared value, in (A, B) order after the pair given (0, 0:
	// from the start), leaving out pairs marked as not duplicates.
	DuplicatePairs(ctx context.Context, after PairKey, limit int) ([]DuplicatePair, error)
	// MarkNotDuplicate remembers that two customers are not duplicates (a
	// second mark of the same pair keeps the first).
	MarkNotDuplicate(ctx context.Context, pair PairKey, by int64, at time.Time) error
	// ExportCustomers streams the customers matching f in id order, chunk
	// customers at a time, with their live contacts, tags, segments, scores
	// and custom values (times to the second; not the avatar or the owner's
	// name). fn's error stops it.
	ExportCustomers(ctx context.Context, f CustomerFilter, chunk int, fn func([]Customer) error) error
	// Suppressions belong to an address (channel and normalised value), and
	// every contact holding the value shows its address's suppression.
	// Suppression returns an address's suppression, nil when it has none.
	Suppression(ctx context.Context, ch Channel, value string) (*Suppression, error)
	// SetSuppression records a suppress (s non-nil; replaces one already
	// there) or unsuppress (s nil; a conflict when there is none) of an
	// address and appends ev to its history, in one step.
	SetSuppression(ctx context.Context, ch Channel, value string, s *Suppression, ev SuppressionEvent) error
	// ListSuppressionEvents returns an address's history, oldest first.
	ListSuppressionEvents(ctx context.Context, ch Channel, value string) ([]SuppressionEvent, error)
}

// CatalogStore keeps the organisation's shared lists: companies, tags,
// segments, products and custom field definitions.
type CatalogStore interface {
	CreateCompany(ctx context.Context, c *Company) error // Conflict on a case-insensitive name clash
	GetCompany(ctx context.Context, id int64) (*Company, error)
	// CurrentCompany is GetCompany of the company a customer given the id is
	// put in: that company, or the one it was merged into.
	CurrentCompany(ctx context.Context, id int64) (*Company, error)
	FindCompanyByName(ctx context.Context, name string) (*Company, error)
	ListCompanies(ctx context.Context, q string, limit int) ([]Company, error)
	UpdateCompany(ctx context.Context, c *Company) error
	// FindCompanies is one page of the Companies table (companies that are not archived).
	FindCompanies(ctx context.Context, q CompanyQuery) (*CompanyPage, error)
	// CompanyOwners are the distinct owners of the active customers of each
	// company, the first few by name, in one query for a page of companies.
	CompanyOwners(ctx context.Context, ids []int64, few int) (map[int64]CompanyOwners, error)
	// FindCompanyByDomain is the company (not archived) with that domain.
	FindCompanyByDomain(ctx context.Context, domain string) (*Company, error)

	// EnsureTags returns the tags of these names, creating missing ones;
	// names match case-insensitively.
	EnsureTags(ctx context.Context, names []string, now time.Time) ([]Tag, error)
	ListTags(ctx context.Context) ([]Tag, error)
	// SearchTags lists at most limit tags whose name starts with prefix and
	// comes after after (both case-insensitively; "" for none), in name
	// order, with their customer counts: its cost is that of what it returns.
	SearchTags(ctx context.Context, prefix, after string, limit int) ([]Tag, error)

	CreateSegment(ctx context.Context, s *Segment) error
	GetSegment(ctx context.Context, id int64) (*Segment, error)
	ListSegments(ctx context.Context) ([]Segment, error)
	RenameSegment(ctx context.Context, id int64, name string, now time.Time) error

	CreateProduct(ctx context.Context, p *Product) error
	ListProducts(ctx context.Context) ([]Product, error)
	UpdateProduct(ctx context.Context, p *Product) error

	CreateCustomField(ctx context.Context, f *CustomField) error
	ListCustomFields(ctx context.Context, includeRetired bool) ([]CustomField, error)
	UpdateCustomField(ctx context.Context, f *CustomField) error
}

// RecordStore keeps what belongs to a customer over time: messages, deals,
// notes, tasks and the activity log.
type RecordStore interface {
	AddMessage(ctx context.Context, m *Message) error // an inbound one marks the customer has_inbound
	ListMessages(ctx context.Context, customerID int64, limit int) ([]Message, error)

	GetDeal(ctx context.Context, id int64) (*Deal, error)
	GetNote(ctx context.Context, id int64) (*Note, error)
	GetTask(ctx context.Context, id int64) (*Task, error)
	CreateDeal(ctx context.Context, d *Deal) error
	UpdateDeal(ctx context.Context, d *Deal) error
	ListDeals(ctx context.Context, customerID int64) ([]Deal, error)
	CreateNote(ctx context.Context, n *Note) error
	UpdateNote(ctx context.Context, n *Note) error
	ListNotes(ctx context.Context, customerID int64) ([]Note, error)
	CreateTask(ctx context.Context, t *Task) error
	UpdateTask(ctx context.Context, t *Task) error
	ListTasks(ctx context.Context, customerID int64) ([]Task, error)

	AddActivity(ctx context.Context, a *Activity) error
	// ListActivity pages newest first; beforeID 0 starts at the newest.
	ListActivity(ctx context.Context, customerID, beforeID int64, limit int) ([]Activity, error)
}

// ImportStore keeps import jobs.
type ImportStore interface {
	CreateImport(ctx context.Context, j *ImportJob) error
	GetImport(ctx context.Context, id int64) (*ImportJob, error)
	// UpdateImport writes an import not yet submitted (its mapping, or its
	// submission): Conflict when it is no longer "uploaded" (submitted,
	// canceled or expired meanwhile).
	UpdateImport(ctx context.Context, j *ImportJob) error
	ListImports(ctx context.Context, limit int) ([]ImportJob, error)

	// ClaimImport makes runner the one process allowed to write the import's
	// progress, marks it running and returns it (Conflict when it has ended).
	ClaimImport(ctx context.Context, id int64, runner string, now time.Time) (*ImportJob, error)
	// SaveImportProgress writes counters, position and status while runner
	// still holds the import and it was not canceled; Conflict otherwise.
	SaveImportProgress(ctx context.Context, j *ImportJob, runner string) error
	// CancelImport cancels an import that has not ended; reports whether it did.
	CancelImport(ctx context.Context, id int64, now time.Time) (bool, error)
	// ImportsHoldingFiles lists the imports not yet ended whose file is kept
	// (path not ""), of one user or, with userID 0, of everyone.
	ImportsHoldingFiles(ctx context.Context, userID int64) ([]ImportJob, error)
	// ImportFilesToRemove lists up to limit imports still holding a file that
	// is no longer needed: ended (done, failed, canceled), or uploaded and
	// untouched since staleBefore (never submitted).
	ImportFilesToRemove(ctx context.Context, staleBefore time.Time, limit int) ([]ImportJob, error)
	// ExpireImport cancels, with reason, an import still uploaded and
	// untouched since staleBefore; reports whether it did.
	ExpireImport(ctx context.Context, id int64, staleBefore, now time.Time, reason string) (bool, error)
	// ForgetImportFile records that an ended import's file was deleted (path "").
	ForgetImportFile(ctx context.Context, id int64) error

	// Uploads are kept in the database in chunks, so that every process on
	// one database can read an upload made through another.
	// PutUploadChunk stores chunk seq (from 0) of an upload.
	PutUploadChunk(ctx context.Context, uploadID string, seq int, data []byte, now time.Time) error
	// UploadChunk returns chunk seq of an upload; ErrNotFound past its end.
	UploadChunk(ctx context.Context, uploadID string, seq int) ([]byte, error)
	// DeleteUpload deletes every chunk of an upload.
	DeleteUpload(ctx context.Context, uploadID string) error
	// UploadsBefore lists the uploads whose last chunk was stored before t.
	UploadsBefore(ctx context.Context, t time.Time) ([]string, error)
	// ImportMatches maps normalised e-mails to the active customer holding
	// each (the lowest id when several do).
	ImportMatches(ctx context.Context, emails []string) (map[string]int64, error)
	// EnsureCompanies returns company ids by NameKey(name), creating missing ones.
	EnsureCompanies(ctx context.Context, names []string, now time.Time) (map[string]int64, error)
	// InsertImported adds new customers with everything hanging off them in
	// few statements, and sets their IDs.
	InsertImported(ctx context.Context, rows []ImportedCustomer, now time.Time) error
	// RefreshStatistics brings the query planner's statistics up to date
	// after a bulk load, on engines whose planner needs them.
	RefreshStatistics(ctx context.Context) error
	AddImportErrors(ctx context.Context, importID int64, errs []ImportError) error
	// ListImportErrors pages the failed rows of an import by row number.
	ListImportErrors(ctx context.Context, importID, afterRow int64, limit int) ([]ImportError, error)
}

// ImportedCustomer is one validated new customer of an import.
type ImportedCustomer struct {
	ID          int64 // set by InsertImported
	Customer    NewCustomer
	CompanyName string    // for the search text
	Contacts    []Contact // normalised; the first of each channel is primary
	TagIDs      []int64
	SegmentID   *int64
	Scores      map[int64]int    // product id -> score
	Custom      map[int64]string // field id -> JSON value
	ActorID     *int64
	Activity    string // JSON data of the "created" activity entry
}

// ImportError is one failed row of an import: its number, why, and its cells as read.
type ImportError struct {
	Row    int64    `json:"row"`
	Error  string   `json:"error"`
	Values []string `json:"values"`
}
