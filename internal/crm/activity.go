package crm

// Activity kinds: what an activity entry records.
const (
	ActCreated        = "created"
	ActUpdated        = "updated" // data: {"field", "from", "to"}
	ActOwnerChanged   = "owner_changed"
	ActTagAdded       = "tag_added"
	ActTagRemoved     = "tag_removed"
	ActSegmentAdded   = "segment_added"
	ActSegmentRemoved = "segment_removed"
	ActContactAdded   = "contact_added"
	ActContactUpdated = "contact_updated"
	ActContactRemoved = "contact_removed"
	ActSuppressed     = "suppressed"
	ActUnsuppressed   = "unsuppressed"
	ActMessage        = "message"
	ActNoteAdded      = "note_added"
	ActDealAdded      = "deal_added"
	ActTaskAdded      = "task_added"
	ActMergedInto     = "merged_into"
	ActMergedFrom     = "merged_from"
	ActArchived       = "archived"
	ActRestored       = "restored"
	ActImported       = "imported"
)
