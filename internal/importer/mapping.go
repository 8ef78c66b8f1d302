package importer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/acme/crm/internal/crm"
)

// Targets a column can be mapped to (SPEC section 9), besides score:<product
// key> and custom:<field key>.
var Targets = []string{"first_name", "last_name", "full_name", "email", "phone", "linkedin_url", "company_name", "tags",
	"segment_id", "owner_email", "language", "country", "timezone"}

// synonyms maps a normalised header (see normHeader) to its target: the
// names address books (Google, Outlook, Apple), mail clients (Thunderbird),
// spreadsheets in several languages, professional networks (LinkedIn) and
// other CRMs (HubSpot, Salesforce, Pipedrive, Mailchimp) write.
var synonyms = map[string]string{}

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
		"Customer", "Customer Name", "Client", "Client Name", "Nickname", "Vollständiger Name", "Nom complet", "Nombre completo")
	add("email", "email", "E-mail", "Email Address", "E-mail Address", "E-mail 1 - Value", "Email 1", "Primary Email",
		"Work Email", "Business Email", "Email Address 1", "E-Mail-Adresse", "Adresse e-mail", "Adresse email", "Courriel",
		"Correo", "Correo electrónico", "Posta elettronica", "Mail", "Emails", "Primary E-mail", "Email (Work)", "Person - Email")
	add("phone", "phone", "Phone", "Phone Number", "Phone 1 - Value", "Mobile", "Mobile Phone", "Mobile Number", "Cell",
		"Cell Phone", "Business Phone", "Work Phone", "Home Phone", "Primary Phone", "Telephone", "Tel", "Telefon",
		"Telefonnummer", "Téléphone", "Telefono", "Teléfono", "Handy", "Mobiltelefon", "Phone (Work)", "Person - Phone")
	add("linkedin_url", "linkedin_url", "LinkedIn", "LinkedIn URL", "LinkedIn Profile", "LinkedIn Profile URL",
		"Profile URL", "Profile Link", "LinkedIn Link", "Public Profile URL", "Person Linkedin Url", "URL")
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
// Each target takes the first column that names it; product scores and
// custom fields match their key or label.
func AutoMap(columns []string, cat *Catalog) map[string]string {
	out := make(map[string]string, len(columns))
	taken := map[string]bool{}
	extra := map[string]string{}
	if cat != nil {
		for k, p := range cat.Products {
			extra[normHeader(k)] = "score:" + k
			extra[normHeader(p.Name)] = "score:" + k
			extra[normHeader(p.Name+" score")] = "score:" + k
			extra[normHeader("score "+k)] = "score:" + k
		}
		for k, f := range cat.Fields {
			extra[normHeader(k)] = "custom:" + k
			extra[normHeader(f.Label)] = "custom:" + k
			extra[normHeader("custom "+k)] = "custom:" + k
		}
	}
	for _, c := range columns {
		n := normHeader(c)
		t, ok := extra[n]
		if !ok {
			t = synonyms[n]
		}
		if t == "" || taken[t] {
			out[c] = ""
			continue
		}
		taken[t] = true
		out[c] = t
	}
	return out
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
