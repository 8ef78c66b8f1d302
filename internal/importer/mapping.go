package importer

import (
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/acme/crm/internal/crm"
)

// Targets a column can be mapped to (SPEC section 9), besides score:<product
// key> and custom:<field key>.
var Targets = []string{"first_name", "last_name", "full_name", "email", "phone", "linkedin_url", "website", "company_name", "tags",
	"segment_id", "owner_email", "language", "country", "timezone"}

// targetLabels are the targets as the mapping step names them.
var targetLabels = map[string]string{"first_name": "First name", "last_name": "Last name", "full_name": "Full name",
	"email": "E-mail", "phone": "Phone", "linkedin_url": "LinkedIn profile", "website": "Website", "company_name": "Company",
	"tags": "Tags", "segment_id": "Segment (id)", "owner_email": "Owner (a user's e-mail)", "language": "Language",
	"country": "Country", "timezone": "Time zone"}

// ContactTargets are the targets that hold a contact: any number of columns
// may be mapped to each (E-mail 1, E-mail 2...). A row's first non-empty
// one becomes the customer's primary contact of that channel, the others
// additional contacts.
var ContactTargets = map[string]crm.Channel{"email": crm.ChannelEmail, "phone": crm.ChannelPhone,
	"linkedin_url": crm.ChannelLinkedIn, "website": crm.ChannelWebsite}

// Target is a target with its human name, for the mapping step.
type Target struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// TargetList is every target of the catalog, with human names.
func TargetList(cat *Catalog) []Target {
	out := make([]Target, 0, len(Targets))
	for _, t := range Targets {
		out = append(out, Target{t, targetLabels[t]})
	}
	if cat == nil {
		return out
	}
	var extra []Target
	for k, p := range cat.Products {
		extra = append(extra, Target{"score:" + k, "Score: " + p.Name})
	}
	for k, f := range cat.Fields {
		extra = append(extra, Target{"custom:" + k, f.Label + " (custom field)"})
	}
	slices.SortFunc(extra, func(a, b Target) int { return strings.Compare(a.Label, b.Label) })
	return append(out, extra...)
}

// synonyms maps a normalised header (see normHeader) to its target: the
// names address books (Google, Outlook, Apple), mail clients (Thunderbird),
// spreadsheets in several languages, professional networks (LinkedIn) and
// other CRMs (HubSpot, Salesforce, Pipedrive, Mailchimp) write. A nickname
// is no name of record: it is never mapped to full_name.
var synonyms = map[string]string{}

// Fields that exist only as custom fields (job title, homepage): a custom
// field whose key or label is one of a concept's names takes the columns
// that name the concept. weakConcept headers are taken only when no other
// column of the file names the concept ("Title" is a salutation in Outlook,
// which also has "Job Title", and the job title in Salesforce).
var concepts = map[string][]string{
	"jobtitle": {"job_title", "Job Title", "Jobtitle", "Organization Title", "Organization 1 - Title", "Position",
		"Job Position", "Role", "Job Role", "Jobtitel", "Berufsbezeichnung", "Position (Job)", "Intitulé du poste", "Poste",
		"Cargo", "Puesto", "Person - Job title"},
	"homepage": {"homepage", "Home Page", "Website", "Web Site", "Website URL", "Web Page", "Webpage", "Website 1 - Value", "URL (Homepage)", "Homepage URL", "Site web", "Sitio web", "Webseite"},
}
var weakConcept = map[string]string{normHeader("Title"): "jobtitle", normHeader("Occupation"): "jobtitle",
					normHeader("Profession"): "jobtitle"}
var conceptOf = map[string]string{} // normalised header -> concept

// contactPatterns recognise the numbered and labelled contact columns real
// exports write, on the lower-cased header with runs of spaces made one:
// Google's "E-mail 2 - Value", Outlook's "E-mail 2 Address" and "Mobile
// Phone", Apple converters' "Email (Work)" and "Phone (iPhone)", HubSpot's
// "Mobile Phone Number", "Website 1 - Value" and so on. Faxes, pagers and
// an assistant's phone are not the customer's phone, and "Email Opt Out"
// or "E-mail Type" hold no address: none of them match.
var contactPatterns = []struct {
	re     *regexp.Regexp
	target string
}{
	{regexp.MustCompile(`^e-?mail( ?\d+)? ?- ?value$`), "email"},
	{regexp.MustCompile(`^e-?mail( ?\d+)? address$`), "email"},
	{regexp.MustCompile(`^e-?mail ?\d+$`), "email"},
	{regexp.MustCompile(`^e-?mail ?\((home|work|other|personal|business|private|school|icloud|internet|main|primary)\)$`), "email"},
	{regexp.MustCompile(`^(home|work|other|personal|business|private|secondary|alternate|additional) e-?mail( address)?( ?\d+)?$`), "email"},
	{regexp.MustCompile(`^(email|e-mail|mail) \(\d+\)$`), "email"},
	{regexp.MustCompile(`^phone( ?\d+)? ?- ?value$`), "phone"},
	{regexp.MustCompile(`^phone ?\d+$`), "phone"},
	{regexp.MustCompile(`^phone ?\((home|work|mobile|cell|iphone|main|other|business|private)\)$`), "phone"},
	{regexp.MustCompile(`^(home|work|business|mobile|other|primary|car|main|cell|private) (tele)?phone( number)?( ?\d+)?$`), "phone"},
	{regexp.MustCompile(`^(mobile|cell|mobile number|cell number)( ?\d+)?$`), "phone"},
	{regexp.MustCompile(`^(phone|mobile|telephone|tel)( number)? \(\d+\)$`), "phone"},
	{regexp.MustCompile(`^website( ?\d+)? ?- ?value$`), "website"},
	{regexp.MustCompile(`^(website|web site|url) ?\d+$`), "website"},
	{regexp.MustCompile(`^url ?\((homepage|home|work|other|business|personal|blog)\)$`), "website"},
}

func init() {
	add := func(target string, names ...string) {
		for _, n := range names {
			synonyms[normHeader(n)] = target
		}
	}
	add("first_name", "first_name", "First Name", "Given Name", "Firstname", "Forename", "First", "Given", "Vorname",
		"Prénom", "Prenom", "Nombre", "Nome", "Voornaam", "Contact First Name", "Member First Name", "FNAME")
	add("last_name", "last_name", "Last Name", "Family Name", "Surname", "Lastname", "Last", "Nachname", "Nom",
		"Nom de famille", "Apellido", "Apellidos", "Cognome", "Achternaam", "Contact Last Name", "Member Last Name", "LNAME")
	add("full_name", "full_name", "Name", "Full Name", "Display Name", "Contact Name", "Contact", "Person", "Person Name",
		"Customer", "Customer Name", "Client", "Client Name", "Vollständiger Name", "Nom complet", "Nombre completo")
	add("email", "email", "E-mail", "Email Address", "E-mail Address", "E-mail 1 - Value", "Email 1", "Primary Email",
		"Work Email", "Business Email", "Email Address 1", "E-Mail-Adresse", "Adresse e-mail", "Adresse email", "Courriel",
		"Correo", "Correo electrónico", "Posta elettronica", "Mail", "Emails", "Primary E-mail", "Email (Work)", "Person - Email")
	add("phone", "phone", "Phone", "Phone Number", "Phone 1 - Value", "Mobile", "Mobile Phone", "Mobile Number", "Cell",
		"Cell Phone", "Business Phone", "Work Phone", "Home Phone", "Primary Phone", "Telephone", "Tel", "Telefon",
		"Telefonnummer", "Téléphone", "Telefono", "Teléfono", "Handy", "Mobiltelefon", "Phone (Work)", "Person - Phone",
		"Mobile Phone Number", "Other Phone", "Home Phone 2", "Business Phone 2")
	add("linkedin_url", "linkedin_url", "LinkedIn", "LinkedIn URL", "LinkedIn Profile", "LinkedIn Profile URL",
		"Profile URL", "Profile Link", "LinkedIn Link", "Public Profile URL", "Person Linkedin Url", "URL")
	add("website", "website_url", "Website 1 - Value", "Website", "Web Site", "Website URL", "Web Page", "Webpage",
		"Personal Web Page", "Business Web Page", "Homepage", "Home Page", "Webseite", "Site web", "Sitio web")
	add("company_name", "company_name", "Company", "Company Name", "Organization", "Organisation", "Organization Name",
		"Organization 1 - Name", "Organisation Name", "Account", "Account Name", "Employer", "Business", "Firma",
		"Unternehmen", "Société", "Societe", "Entreprise", "Empresa", "Azienda", "Bedrijf", "Person - Organization")
	add("tags", "tags", "Tag", "Labels", "Label", "Categories", "Category", "Group Membership", "Groups", "Keywords",
		"Schlagwörter", "Étiquettes", "Etiquetas")
	add("segment_id", "segment_id", "Segment", "Segment ID", "List ID")
	add("owner_email", "owner_email", "Owner", "Owner Email", "Contact Owner", "Account Owner", "Assigned To",
		"Sales Rep", "Owner E-mail", "Person - Owner")
	add("language", "language", "Language", "Preferred Language", "Lang", "Locale", "Sprache", "Langue", "Idioma", "Lingua")
	add("country", "country", "Country", "Country/Region", "Country Code", "Home Country", "Business Country/Region",
		"Address 1 - Country", "Mailing Country", "Land", "Pays", "País", "Paese", "Nation")
	add("timezone", "timezone", "Time Zone", "TZ", "Zeitzone", "Fuseau horaire", "Zona horaria")
	for c, names := range concepts {
		for _, n := range names {
			conceptOf[normHeader(n)] = c
		}
	}
}

// headerTarget is the target a header names by itself (no catalog), or "".
func headerTarget(h string) string {
	if t := synonyms[normHeader(h)]; t != "" {
		return t
	}
	l := strings.Join(strings.Fields(strings.ToLower(h)), " ")
	for _, p := range contactPatterns {
		if p.re.MatchString(l) {
			return p.target
		}
	}
	return ""
}

// normHeader lower-cases a header and keeps only its letters and digits,
// without accents: "E-mail Address" and "email_address" are the same.
func normHeader(h string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(h)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Catalog is what mapping and validation look up: products, custom fields,
// segments and users, loaded once per import.
type Catalog struct {
	Products map[string]crm.Product     // by key
	Fields   map[string]crm.CustomField // by key
	Segments map[int64]crm.Segment
	Users    map[string]crm.User // by folded e-mail
}

// AutoMap maps each column to a target by its header, or to "" (ignored).
// Each target takes the first column that names it, except the contact
// targets, which take every column that names them (E-mail 1, E-mail 2...).
// Product scores and custom fields match their key or label; a custom field
// that is a job title or a homepage also takes the headers that name one.
// samples (column -> first values; may be nil) keep a column out of a target
// its values cannot go into: an "Owner" column of names is not owner_email,
// a "URL" column of web sites is no LinkedIn profile.
func AutoMap(columns []string, samples map[string][]string, cat *Catalog) map[string]string {
	out := make(map[string]string, len(columns))
	taken := map[string]bool{}
	extra := map[string]string{}
	conceptField := map[string]string{} // concept -> custom:<key>
	if cat != nil {
		for k, p := range cat.Products {
			extra[normHeader(k)] = "score:" + k
			extra[normHeader(p.Name)] = "score:" + k
			extra[normHeader(p.Name+" score")] = "score:" + k
			extra[normHeader("score "+k)] = "score:" + k
		}
		keys := make([]string, 0, len(cat.Fields))
		for k := range cat.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			f := cat.Fields[k]
			extra[normHeader(k)] = "custom:" + k
			extra[normHeader(f.Label)] = "custom:" + k
			extra[normHeader("custom "+k)] = "custom:" + k
			for _, n := range []string{k, f.Label} {
				if c := conceptOf[normHeader(n)]; c != "" && conceptField[c] == "" {
					conceptField[c] = "custom:" + k
				}
			}
		}
	}
	fits := func(t, col string) bool {
		vals := samples[col]
		switch t {
		case "owner_email":
			for _, v := range vals {
				if !strings.Contains(v, "@") {
					return false
				}
			}
		case "linkedin_url":
			for _, v := range vals {
				if !strings.Contains(strings.ToLower(v), "linkedin.") {
					return false
				}
			}
		}
		return true
	}
	var weak []string
	for _, c := range columns {
		n := normHeader(c)
		t, ok := extra[n]
		if !ok {
			if f := conceptField[conceptOf[n]]; f != "" {
				t = f
			} else if weakConcept[n] != "" {
				weak = append(weak, c)
			}
		}
		if t == "" || taken[t] {
			// a homepage column beyond the custom field's is a website contact
			if conceptOf[n] == "homepage" {
				t = "website"
			} else {
				t = headerTarget(c)
			}
		}
		if t == "linkedin_url" && !fits(t, c) {
			t = "website" // a "URL" column of plain web sites
		}
		_, multi := ContactTargets[t]
		if t == "" || (taken[t] && !multi) || !fits(t, c) {
			out[c] = ""
			continue
		}
		taken[t] = true
		out[c] = t
	}
	for _, c := range weak {
		if f := conceptField[weakConcept[normHeader(c)]]; f != "" && !taken[f] && out[c] == "" {
			taken[f] = true
			out[c] = f
		}
	}
	return out
}

// Samples are the first n non-empty values of each column (of the first
// 1,000 rows), as the mapping step shows them.
func Samples(path string, f *Format, n int) (map[string][]string, error) {
	rows, err := OpenRows(path, f, f.DataOffset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]string, len(f.Columns))
	full := 0
	for range 1000 {
		rec, _, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !isTooBig(err) {
			return nil, err
		}
		for i, c := range f.Columns {
			if i >= len(rec) || len(out[c]) >= n {
				continue
			}
			v := strings.TrimSpace(rec[i])
			if v == "" {
				continue
			}
			if utf8.RuneCountInString(v) > 80 {
				v = string([]rune(v)[:80]) + "…"
			}
			out[c] = append(out[c], v)
			if len(out[c]) == n {
				full++
			}
		}
		if full == len(f.Columns) {
			break
		}
	}
	return out, nil
}

// CheckMapping checks a mapping against the columns and the catalog: known
// columns, known targets, each target at most once, and something that can
// name a customer (a name column or e-mail).
func CheckMapping(columns []string, m map[string]string, cat *Catalog) error {
	var fe crm.FieldErrors
	known := map[string]bool{}
	for _, c := range columns {
		known[c] = true
	}
	used := map[string]string{}
	for col, t := range m {
		if !known[col] {
			fe.Add("mapping", "The file has no column %q.", col)
			continue
		}
		if t == "" {
			continue
		}
		if !validTarget(t, cat) {
			fe.Add("mapping", "%q is not something a column can be imported into (column %q).", t, col)
			continue
		}
		if _, multi := ContactTargets[t]; multi {
			if _, ok := used[t]; !ok {
				used[t] = col
			}
			continue
		}
		if other, ok := used[t]; ok {
			a, b := other, col
			if b < a {
				a, b = b, a
			}
			fe.Add("mapping", "The columns %q and %q are both mapped to %s; keep one.", a, b, t)
			continue
		}
		used[t] = col
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if used["email"] == "" && used["first_name"] == "" && used["last_name"] == "" && used["full_name"] == "" {
		return crm.Invalid("mapping", "Map at least one column to a name (first, last or full name) or to email.")
	}
	return nil
}

func validTarget(t string, cat *Catalog) bool {
	if k, ok := strings.CutPrefix(t, "score:"); ok {
		_, ok := cat.Products[k]
		return ok
	}
	if k, ok := strings.CutPrefix(t, "custom:"); ok {
		_, ok := cat.Fields[k]
		return ok
	}
	for _, x := range Targets {
		if x == t {
			return true
		}
	}
	return false
}
