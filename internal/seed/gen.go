package seed

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Rows as the generator makes them; zero ids and zero times mean NULL.

type companyRow struct {
	id           int64
	name, domain string
	created      time.Time
}

type customerRow struct {
	id                         int64
	fullName, first, last, key string
	companyID, ownerID         int64
	companyKey, ownerKey       string // sort keys (migration 00015)
	language, country, tz      string
	email, phone               string
	search                     string // crm.SearchText: what search finds the customer by
	hasInbound                 bool
	created, updated, archived time.Time
}

type contactRow struct {
	id, customerID int64
	channel, value string
	primary        bool
	created        time.Time
}

// suppressionRow is the suppression of an address (channel and value).
type suppressionRow struct {
	channel, value, reason, note string
	userID                       int64
	at                           time.Time
}

type supEventRow struct {
	id, contactID                        int64
	channel, value, action, reason, note string
	userID                               int64
	at                                   time.Time
}

// linkRow is a customer_tags (a = customer, b = tag) or segment_members
// (a = segment, b = customer) row.
type linkRow struct {
	a, b int64
	at   time.Time
}

type scoreRow struct{ customerID, productID, score int64 }

type valueRow struct {
	customerID, fieldID int64
	value               string
}

type messageRow struct {
	id, customerID, contactID   int64
	direction, channel, address string
	subject, body               string
	automated                   bool
	status                      string
	userID                      int64
	at                          time.Time
}

type dealRow struct {
	id, customerID   int64
	title            string
	amount           int64
	currency, stage  string
	authorID         int64
	created, updated time.Time
}

type noteRow struct {
	id, customerID   int64
	body             string
	authorID         int64
	created, updated time.Time
}

type taskRow struct {
	id, customerID   int64
	title            string
	due, done        time.Time
	authorID         int64
	created, updated time.Time
}

type activityRow struct {
	id, customerID, userID int64
	kind, data             string
	at                     time.Time
}

// chunk is one batch of customers with everything that belongs to them; a
// writer stores it in one transaction.
type chunk struct {
	first     int // ordinal of the first customer (0-based)
	customers []customerRow
	contacts  []contactRow
	supps     []suppressionRow
	supEvents []supEventRow
	tags      []linkRow
	members   []linkRow
	scores    []scoreRow
	values    []valueRow
	messages  []messageRow
	deals     []dealRow
	notes     []noteRow
	tasks     []taskRow
	activity  []activityRow
}

func (c *chunk) reset(first int) {
	c.first = first
	c.customers = c.customers[:0]
	c.contacts = c.contacts[:0]
	c.supps = c.supps[:0]
	c.supEvents = c.supEvents[:0]
	c.tags = c.tags[:0]
	c.members = c.members[:0]
	c.scores = c.scores[:0]
	c.values = c.values[:0]
	c.messages = c.messages[:0]
	c.deals = c.deals[:0]
	c.notes = c.notes[:0]
	c.tasks = c.tasks[:0]
	c.activity = c.activity[:0]
}

// ids are the next free id of each table with an id column.
type ids struct {
	company, customer, contact, supEvent, message, deal, note, task, activity int64
}

type userInfo struct {
	id      int64
	nameKey string // the owner sort key of the user's customers
	admin   bool
	active  bool
}

type fieldInfo struct {
	id      int64
	typ     string
	options []string
}

type dup struct {
	first, last, full, email, phone string
	fslug, lslug                    string
	loc, company                    int
}

// generator makes all rows from one PRNG, in one fixed order, so the same
// seed and customer count give the same data.
type generator struct {
	r         *rand.Rand
	now       time.Time
	startUS   int64 // created_at of customers spreads over [startUS, nowUS)
	nowUS     int64
	n         int
	next      ids
	locCum    []int
	companies []companyRow
	users     []userInfo
	active    []int64 // active users (authors, senders)
	admins    []int64
	ownerCum  []int
	ownerIDs  []int64
	tagIDs    []int64
	tagCum    []int
	segIDs    []int64
	segCum    []int
	products  []int64
	prodNames []string
	fields    []fieldInfo
	recent    [512]dup
	nRecent   int
	i         int // ordinal of the next customer
	buf       []byte
	acts      []activityRow // the current customer's activity, sorted before ids are given
	lastMsg   map[int]int64 // contact index in chunk -> time (µs) of its last message
	// suppressedAt holds each address left suppressed -> when (µs): a
	// suppression belongs to the address, so a duplicate customer holding
	// it is sent nothing after that.
	suppressedAt map[string]int64
	stats        Stats
	dateLayout   string
}

func newGenerator(seed int64, n int, now time.Time, next ids) *generator {
	g := &generator{
		r:            rand.New(rand.NewPCG(uint64(seed), 0x5eed_c0ffee_cafe)),
		now:          now,
		nowUS:        now.UnixMicro(),
		startUS:      now.AddDate(-2, 0, 0).UnixMicro(),
		n:            n,
		next:         next,
		lastMsg:      map[int]int64{},
		suppressedAt: map[string]int64{},
		dateLayout:   "2006-01-02",
	}
	total := 0
	for _, l := range locales {
		total += l.weight
		g.locCum = append(g.locCum, total)
	}
	return g
}

// pick returns an index by cumulative weights.
func (g *generator) pick(cum []int) int {
	x := g.r.IntN(cum[len(cum)-1])
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func (g *generator) pct(p int) bool { return g.r.IntN(1000) < p*10 }

// permille is true with probability p/1000.
func (g *generator) permille(p int) bool { return g.r.IntN(1000) < p }

func us(t int64) time.Time { return time.UnixMicro(t).UTC() }

// between returns a random instant in [a, b] (µs).
func (g *generator) between(a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + g.r.Int64N(b-a+1)
}

func (g *generator) setUsers(users []userInfo) {
	g.users = users
	total := 0
	for _, u := range users {
		w := 1
		switch {
		case !u.active:
			w = 1
		case u.admin:
			w = 2
		default:
			w = 6
		}
		total += w
		g.ownerCum = append(g.ownerCum, total)
		g.ownerIDs = append(g.ownerIDs, u.id)
		if u.active {
			g.active = append(g.active, u.id)
			if u.admin {
				g.admins = append(g.admins, u.id)
			}
		}
	}
	if len(g.active) == 0 { // pre-existing demo users, all deactivated
		g.active = g.ownerIDs
	}
	if len(g.admins) == 0 {
		g.admins = g.active
	}
}

func (g *generator) setTags(tagIDs []int64) {
	g.tagIDs = tagIDs
	total := 0
	for i := range tagIDs {
		total += 1000 / (i + 2) // Zipf-like: a few tags are very common, most are rare
		g.tagCum = append(g.tagCum, total)
	}
}

func (g *generator) setSegments(segIDs []int64) {
	g.segIDs = segIDs
	total := 0
	for i := range segIDs {
		total += 100/(i+1) + 1
		g.segCum = append(g.segCum, total)
	}
}

// makeCompanies makes n companies with names unique case-insensitively
// (also against taken, the lower-cased names already in the database).
func (g *generator) makeCompanies(n int, taken map[string]bool) []companyRow {
	out := make([]companyRow, 0, n)
	seenDomain := map[string]bool{}
	for len(out) < n {
		var nm, base string
		switch g.r.IntN(4) {
		case 0: // a founder's name
			loc := &locales[g.pick(g.locCum)]
			l := loc.last[g.r.IntN(len(loc.last))].s
			nm = l + " " + companyWords[g.r.IntN(len(companyWords))]
		case 1:
			nm = companyStems[g.r.IntN(len(companyStems))] + companyStems[g.r.IntN(len(companyStems))]
			nm = nm[:1] + strings.ToLower(nm[1:])
		default:
			nm = companyStems[g.r.IntN(len(companyStems))] + " " + companyWords[g.r.IntN(len(companyWords))]
		}
		base = nm
		if s := companySuffixes[g.r.IntN(len(companySuffixes))]; s != "" {
			nm += " " + s
		}
		if len(out) > 2000 && g.r.IntN(3) == 0 {
			// the simple combinations run out: add a place, as real names do
			loc := &locales[g.pick(g.locCum)]
			nm = base + " " + loc.country
			base = nm
		}
		key := strings.ToLower(nm)
		if taken[key] {
			continue
		}
		taken[key] = true
		dom := slugify(base)
		d := dom + companyTLDs[g.r.IntN(len(companyTLDs))]
		for k := 2; seenDomain[d]; k++ {
			d = dom + strconv.Itoa(k) + companyTLDs[g.r.IntN(len(companyTLDs))]
		}
		seenDomain[d] = true
		created := g.startUS - g.r.Int64N(int64(365*24*time.Hour/time.Microsecond))
		out = append(out, companyRow{id: g.next.company, name: nm, domain: d, created: us(created)})
		g.next.company++
	}
	g.companies = out
	g.stats.Companies = len(out)
	return out
}

func (g *generator) phone(loc *locale) string {
	p := loc.phone
	b := g.buf[:0]
	b = append(b, p.prefixes[g.r.IntN(len(p.prefixes))]...)
	b = append(b, p.first+byte(g.r.IntN(int('9'-p.first)+1)))
	for k := 1; k < p.digits; k++ {
		b = append(b, '0'+byte(g.r.IntN(10)))
	}
	g.buf = b
	return string(b)
}

func (g *generator) user() int64 { return g.active[g.r.IntN(len(g.active))] }

// fill makes the next customers of a chunk.
func (g *generator) fill(c *chunk, count int) {
	c.reset(g.i)
	clear(g.lastMsg)
	for k := 0; k < count; k++ {
		g.customer(c)
	}
	s := &g.stats
	s.Customers += len(c.customers)
	s.Contacts += len(c.contacts)
	s.Messages += len(c.messages)
	s.Deals += len(c.deals)
	s.Notes += len(c.notes)
	s.Tasks += len(c.tasks)
	s.Activity += len(c.activity)
}

func (g *generator) customer(c *chunk) {
	r := g.r
	ord := g.i
	g.i++
	id := g.next.customer
	g.next.customer++
	g.acts = g.acts[:0]

	// created_at grows with the id (customers are created over time) and is
	// uniform over the two years.
	span := float64(g.nowUS - g.startUS)
	createdUS := g.startUS + int64((float64(ord)+r.Float64())*span/float64(g.n))
	if createdUS >= g.nowUS {
		createdUS = g.nowUS - 1
	}
	created := us(createdUS)

	var d dup
	isDup := g.nRecent > 50 && g.permille(10)
	if isDup {
		d = g.recent[r.IntN(min(g.nRecent, len(g.recent)))]
	} else {
		d.loc = g.pick(g.locCum)
		d.company = -1
		if len(g.companies) > 0 && g.pct(85) {
			// a few big companies, many small ones
			f := r.Float64()
			d.company = int(f * f * float64(len(g.companies)))
		}
	}
	loc := &locales[d.loc]

	cu := customerRow{id: id, created: created}
	if isDup {
		cu.fullName, cu.first, cu.last = d.full, d.first, d.last
	} else {
		fn := loc.first[r.IntN(len(loc.first))]
		ln := loc.last[r.IntN(len(loc.last))]
		cu.fullName = fn.s + " " + ln.s
		if !g.pct(3) { // imports without split names
			cu.first, cu.last = fn.s, ln.s
		}
		// the address: work (company domain) or private (free mail), with the
		// ordinal so that addresses are unique unless deliberately duplicated
		var domain string
		if d.company >= 0 && g.pct(65) {
			domain = g.companies[d.company].domain
		} else {
			domain = loc.mail[r.IntN(len(loc.mail))]
		}
		n := strconv.Itoa(ord + 1)
		var local string
		switch v := r.IntN(10); {
		case v < 4:
			local = fn.slug + "." + ln.slug + "." + n
		case v < 6:
			local = fn.slug + ln.slug + n
		case v < 8:
			local = fn.slug[:1] + "." + ln.slug + n
		case v < 9:
			local = fn.slug + "_" + ln.slug + n
		default:
			local = fn.slug + "." + n
		}
		d.email = local + "@" + domain
		d.full, d.first, d.last = cu.fullName, cu.first, cu.last
		d.fslug, d.lslug = fn.slug, ln.slug
		d.phone = ""
		if g.pct(60) {
			d.phone = g.phone(loc)
		}
	}
	cu.key = crm.NameKey(cu.fullName)
	if d.company >= 0 {
		cu.companyID = g.companies[d.company].id
		cu.companyKey = crm.NameKey(g.companies[d.company].name)
	}
	if len(g.ownerIDs) > 0 && g.pct(60) {
		i := g.pick(g.ownerCum)
		cu.ownerID, cu.ownerKey = g.ownerIDs[i], g.users[i].nameKey
	}
	if !g.pct(2) { // some imports have no location
		cu.country = loc.country
		cu.tz = loc.tzs[r.IntN(len(loc.tzs))]
	}
	if r.IntN(100) < loc.langMain || len(loc.langs) == 1 {
		cu.language = loc.langs[0]
	} else {
		cu.language = loc.langs[1+r.IntN(len(loc.langs)-1)]
	}

	updatedUS := createdUS
	if g.pct(60) {
		updatedUS = g.between(createdUS, g.nowUS)
	}
	g.act(id, 0, crm.ActCreated, `{"source":"seed"}`, createdUS)
	if g.pct(3) {
		a := g.between(createdUS, g.nowUS)
		cu.archived = us(a)
		updatedUS = max(updatedUS, a)
		g.act(id, g.admins[r.IntN(len(g.admins))], crm.ActArchived, `{}`, a)
	}
	cu.updated = us(updatedUS)

	// contacts
	firstContact := len(c.contacts)
	emailIdx := g.contact(c, id, "email", d.email, true, created)
	cu.email = d.email
	phoneIdx := -1
	if isDup && d.phone != "" && r.IntN(2) == 0 || !isDup && d.phone != "" {
		phoneIdx = g.contact(c, id, "phone", d.phone, true, created)
		cu.phone = d.phone
	} else if isDup && g.pct(60) {
		phoneIdx = g.contact(c, id, "phone", g.phone(loc), true, created)
		cu.phone = c.contacts[phoneIdx].value
	}
	fslug, lslug := d.fslug, d.lslug
	if g.pct(30) {
		g.buf = append(g.buf[:0], "https://www.linkedin.com/in/"...)
		g.buf = append(g.buf, fslug...)
		g.buf = append(g.buf, '-')
		g.buf = append(g.buf, lslug...)
		g.buf = append(g.buf, '-')
		g.buf = strconv.AppendUint(g.buf, uint64(r.Uint32()), 36)
		g.contact(c, id, "linkedin", string(g.buf), true, created)
	}
	if g.permille(40) { // a second, private address
		v := fslug + lslug[:1] + "." + strconv.Itoa(ord+1) + "@" + loc.mail[r.IntN(len(loc.mail))]
		if v != d.email {
			g.contact(c, id, "email", v, false, us(g.between(createdUS, g.nowUS)))
		}
	}
	if g.permille(30) {
		v := g.phone(loc)
		if v != cu.phone {
			g.contact(c, id, "phone", v, phoneIdx < 0, us(g.between(createdUS, g.nowUS)))
			if phoneIdx < 0 {
				phoneIdx = len(c.contacts) - 1
				cu.phone = v
			}
		}
	}
	if g.pct(3) {
		v := cu.phone
		if v == "" || r.IntN(10) < 3 {
			v = g.phone(loc)
		}
		g.contact(c, id, "whatsapp", v, true, created)
	}
	if g.permille(15) {
		g.contact(c, id, "telegram", fslug+"_"+lslug+strconv.Itoa(r.IntN(100)), true, created)
	}
	if g.permille(15) {
		g.contact(c, id, "website", "https://"+fslug+lslug+".com", true, created)
	}
	if g.permille(5) {
		g.contact(c, id, "other", "Skype: "+fslug+"."+lslug, true, created)
	}

	// messages, before suppressions so that nothing went out to a contact after it was suppressed
	if g.pct(10) {
		for k := 1 + r.IntN(3); k > 0; k-- {
			ci := emailIdx
			if phoneIdx >= 0 && g.pct(20) {
				ci = phoneIdx
			}
			ct := &c.contacts[ci]
			at := g.between(createdUS, g.nowUS)
			if t, ok := g.suppressedAt[ct.value]; ok && at > t {
				continue // a duplicate of a suppressed address: nothing after the suppression
			}
			m := messageRow{id: g.next.message, customerID: id, contactID: ct.id, channel: ct.channel, address: ct.value, at: us(at)}
			g.next.message++
			if g.pct(40) {
				m.direction, m.status = "inbound", "received"
				cu.hasInbound = true
				if ct.channel == "email" {
					mail := inboundMails[r.IntN(len(inboundMails))]
					m.subject, m.body = mail[0], mail[1]
				} else {
					m.body = smsBodies[r.IntN(len(smsBodies))]
				}
			} else {
				m.direction, m.status = "outbound", "sent"
				if ct.channel == "email" {
					mail := outboundMails[r.IntN(len(outboundMails))]
					m.subject, m.body = mail[0], mail[1]
					m.automated = g.pct(30)
				} else {
					m.body = smsBodies[r.IntN(len(smsBodies))]
				}
				if !m.automated {
					m.userID = cu.ownerID
					if m.userID == 0 {
						m.userID = g.user()
					}
				}
			}
			if at > g.lastMsg[ci] {
				g.lastMsg[ci] = at
			}
			c.messages = append(c.messages, m)
			g.act(id, m.userID, crm.ActMessage, `{"message_id":`+itoa(m.id)+`,"direction":"`+m.direction+
				`","channel":"`+m.channel+`","subject":`+jsonString(m.subject)+`}`, at)
		}
	}

	// suppressions (e-mail contacts only; a duplicate's shared address keeps
	// the suppression history the first holder was given, if any)
	for ci := firstContact; ci < len(c.contacts); ci++ {
		if c.contacts[ci].channel != "email" || isDup && c.contacts[ci].value == d.email {
			continue
		}
		switch x := r.IntN(1000); {
		case x < 20:
			g.suppress(c, ci, createdUS, g.pct(10))
		case x < 23:
			g.history(c, ci, createdUS)
		}
	}

	if g.pct(5) {
		at := g.between(createdUS, g.nowUS)
		dl := dealRow{id: g.next.deal, customerID: id, currency: loc.currency, authorID: g.author(cu.ownerID), created: us(at)}
		g.next.deal++
		p := r.IntN(len(g.prodNames) + 1)
		dl.title = dealTitles[r.IntN(len(dealTitles))]
		if p < len(g.prodNames) {
			dl.title = g.prodNames[p] + " – " + dl.title
		}
		dl.amount = int64(20+r.IntN(2000)) * 5000
		dl.stage = crm.DealStages[r.IntN(len(crm.DealStages))]
		dl.updated = us(g.between(at, g.nowUS))
		c.deals = append(c.deals, dl)
		g.act(id, dl.authorID, crm.ActDealAdded, `{"deal_id":`+itoa(dl.id)+`,"title":`+jsonString(dl.title)+
			`,"amount":`+itoa(dl.amount)+`,"currency":"`+dl.currency+`"}`, at)
	}
	if g.pct(5) {
		at := g.between(createdUS, g.nowUS)
		n := noteRow{id: g.next.note, customerID: id, body: noteBodies[r.IntN(len(noteBodies))], authorID: g.author(cu.ownerID), created: us(at), updated: us(at)}
		g.next.note++
		if g.pct(20) {
			n.updated = us(g.between(at, g.nowUS))
		}
		c.notes = append(c.notes, n)
		g.act(id, n.authorID, crm.ActNoteAdded, `{"note_id":`+itoa(n.id)+`,"excerpt":`+jsonString(excerpt(n.body))+`}`, at)
	}
	if g.pct(5) {
		at := g.between(createdUS, g.nowUS)
		t := taskRow{id: g.next.task, customerID: id, title: taskTitles[r.IntN(len(taskTitles))], authorID: g.author(cu.ownerID), created: us(at), updated: us(at)}
		g.next.task++
		if g.pct(85) {
			t.due = us(at + int64(1+r.IntN(30))*int64(24*time.Hour/time.Microsecond))
		}
		if g.pct(40) {
			done := g.between(at, g.nowUS)
			t.done, t.updated = us(done), us(done)
		}
		c.tasks = append(c.tasks, t)
		due := "null"
		if !t.due.IsZero() {
			due = `"` + t.due.Format(time.RFC3339Nano) + `"`
		}
		g.act(id, t.authorID, crm.ActTaskAdded, `{"task_id":`+itoa(t.id)+`,"title":`+jsonString(t.title)+`,"due":`+due+`}`, at)
	}

	// tags, segment, scores, custom values
	if len(g.tagIDs) > 0 {
		var picked [3]int64
		nt := 0
		switch x := r.IntN(100); {
		case x < 35:
		case x < 70:
			nt = 1
		case x < 90:
			nt = 2
		default:
			nt = 3
		}
		nt = min(nt, len(g.tagIDs))
		for k := 0; k < nt; {
			t := g.tagIDs[g.pick(g.tagCum)]
			if t == picked[0] || t == picked[1] {
				continue
			}
			picked[k] = t
			k++
			at := createdUS
			if g.pct(30) {
				at = g.between(createdUS, g.nowUS)
			}
			c.tags = append(c.tags, linkRow{a: id, b: t, at: us(at)})
		}
	}
	if len(g.segIDs) > 0 && g.pct(20) {
		c.members = append(c.members, linkRow{a: g.segIDs[g.pick(g.segCum)], b: id, at: us(g.between(createdUS, g.nowUS))})
	}
	for _, p := range g.products {
		if g.pct(60) {
			c.scores = append(c.scores, scoreRow{id, p, int64(r.IntN(51) + r.IntN(51))})
		}
	}
	if nf := len(g.fields); nf > 0 {
		k := min(1+r.IntN(3), nf)
		off := r.IntN(nf)
		step := 1 + r.IntN(nf) // distinct fields: a walk over the ring when step and nf are coprime
		if gcd(step, nf) != 1 {
			step = 1
		}
		for j := 0; j < k; j++ {
			f := &g.fields[(off+j*step)%nf]
			if v := g.value(f, d.company); v != "" {
				c.values = append(c.values, valueRow{id, f.id, v})
			}
		}
	}

	// the activity log in time order
	acts := g.acts
	for a := 1; a < len(acts); a++ {
		for b := a; b > 0 && acts[b].at.Before(acts[b-1].at); b-- {
			acts[b], acts[b-1] = acts[b-1], acts[b]
		}
	}
	for a := range acts {
		acts[a].id = g.next.activity
		g.next.activity++
	}
	c.activity = append(c.activity, acts...)
	companyName := ""
	if d.company >= 0 {
		companyName = g.companies[d.company].name
	}
	cu.search = crm.SearchText(cu.fullName, cu.email, cu.phone, companyName)
	c.customers = append(c.customers, cu)

	if !isDup {
		g.recent[g.nRecent%len(g.recent)] = d
		g.nRecent++
	}
}

func (g *generator) author(owner int64) int64 {
	if owner != 0 && g.pct(70) {
		return owner
	}
	return g.user()
}

func (g *generator) act(customer, user int64, kind, data string, at int64) {
	g.acts = append(g.acts, activityRow{customerID: customer, userID: user, kind: kind, data: data, at: us(at)})
}

func (g *generator) contact(c *chunk, customer int64, ch, value string, primary bool, created time.Time) int {
	c.contacts = append(c.contacts, contactRow{id: g.next.contact, customerID: customer, channel: ch, value: value, primary: primary, created: created})
	g.next.contact++
	return len(c.contacts) - 1
}

func (g *generator) reason() (string, int64, string) {
	switch x := g.r.IntN(100); {
	case x < 45:
		return "unsubscribe", 0, ""
	case x < 70:
		return "bounce", 0, ""
	case x < 75:
		return "complaint", 0, ""
	case x < 90:
		return "manual", g.user(), manualNotes[g.r.IntN(len(manualNotes))]
	default:
		return "do_not_contact", g.user(), manualNotes[g.r.IntN(len(manualNotes))]
	}
}

// suppress suppresses contact ci now (after its messages), optionally after
// an earlier suppress and unsuppress.
func (g *generator) suppress(c *chunk, ci int, createdUS int64, earlier bool) {
	k := &c.contacts[ci]
	lo := max(createdUS, k.created.UnixMicro(), g.lastMsg[ci])
	at := g.between(lo, g.nowUS)
	if earlier {
		t1 := g.between(lo, at)
		t2 := g.between(t1, at)
		g.pair(c, ci, t1, t2)
	}
	reason, by, note := g.reason()
	c.supps = append(c.supps, suppressionRow{channel: k.channel, value: k.value, reason: reason, note: note, userID: by, at: us(at)})
	g.suppressedAt[k.value] = at
	g.event(c, k, "suppress", reason, note, by, at)
	g.stats.Suppressed++
}

// history gives contact ci a suppress and a later unsuppress; it ends not suppressed.
func (g *generator) history(c *chunk, ci int, createdUS int64) {
	k := &c.contacts[ci]
	lo := max(createdUS, k.created.UnixMicro(), g.lastMsg[ci])
	t1 := g.between(lo, g.nowUS)
	g.pair(c, ci, t1, g.between(t1, g.nowUS))
}

func (g *generator) pair(c *chunk, ci int, t1, t2 int64) {
	k := &c.contacts[ci]
	reason, by, note := g.reason()
	g.event(c, k, "suppress", reason, note, by, t1)
	g.event(c, k, "unsuppress", reason, unsuppressNotes[g.r.IntN(len(unsuppressNotes))], g.user(), t2)
}

// event records a suppress or unsuppress in the contact's history and the
// customer's activity, with the data the customers service writes (reason
// is the lifted one for an unsuppress).
func (g *generator) event(c *chunk, k *contactRow, action, reason, note string, by, at int64) {
	kind := crm.ActSuppressed
	data := `{"contact_id":` + itoa(k.id) + `,"channel":"` + k.channel + `","value":` + jsonString(k.value)
	if action == "unsuppress" {
		kind = crm.ActUnsuppressed
		data += `,"was":"` + reason + `"`
		reason = ""
	} else {
		data += `,"reason":"` + reason + `"`
	}
	data += `,"note":` + jsonString(note) + `}`
	c.supEvents = append(c.supEvents, supEventRow{id: g.next.supEvent, contactID: k.id, channel: k.channel, value: k.value, action: action, reason: reason, note: note, userID: by, at: us(at)})
	g.next.supEvent++
	g.act(k.customerID, by, kind, data, at)
}

// value makes a JSON value valid for the field's type.
func (g *generator) value(f *fieldInfo, company int) string {
	r := g.r
	switch f.typ {
	case "text":
		return jsonString(jobTitles[r.IntN(len(jobTitles))])
	case "number":
		n := (1 + r.IntN(9))
		for e := r.IntN(4); e > 0; e-- {
			n *= 10
		}
		return strconv.Itoa(n)
	case "date":
		d := g.nowUS + g.r.Int64N(int64(455*24*time.Hour/time.Microsecond)) - int64(90*24*time.Hour/time.Microsecond)
		return `"` + us(d).Format(g.dateLayout) + `"`
	case "boolean":
		if r.IntN(4) == 0 {
			return "true"
		}
		return "false"
	case "select":
		if len(f.options) == 0 {
			return ""
		}
		return jsonString(f.options[r.IntN(len(f.options))])
	case "multiselect":
		if len(f.options) == 0 {
			return ""
		}
		k := min(1+r.IntN(3), len(f.options))
		off := r.IntN(len(f.options))
		s := "["
		for j := 0; j < k; j++ {
			if j > 0 {
				s += ","
			}
			s += jsonString(f.options[(off+j)%len(f.options)])
		}
		return s + "]"
	case "url":
		if company >= 0 {
			return `"https://` + g.companies[company].domain + `"`
		}
		return `"https://example.org/p/` + strconv.Itoa(r.IntN(1_000_000)) + `"`
	}
	return ""
}

// excerpt shortens a note for the activity log as the customers service does.
func excerpt(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
