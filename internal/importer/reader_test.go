package importer

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
)

// readAll reads every data row of a file.
func readAll(t testing.TB, path string, f *Format) ([][]string, []int64) {
	t.Helper()
	rows, err := OpenRows(path, f, f.DataOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	var offs []int64
	for {
		rec, off, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return out, offs
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]string(nil), rec...))
		offs = append(offs, off)
	}
}

// Files shaped like real exports: each is sniffed, mapped and read, and
// reading again from each saved position gives exactly the rows after it.
func TestRealExports(t *testing.T) {
	cases := []struct {
		file     string
		enc      string
		delim    rune
		rows     int
		mapped   map[string]string // column -> target
		cell     [3]string         // row index, column, value
		cellWant string
	}{
		{"google_contacts.csv", EncUTF8, ',', 2, map[string]string{"First Name": "first_name", "Last Name": "last_name",
			"E-mail 1 - Value": "email", "E-mail 2 - Value": "email", "Phone 1 - Value": "phone", "Nickname": "", "Organization Name": "company_name", "Labels": "tags"},
			[3]string{"0", "Organization Name"}, "Acme GmbH"},
		{"outlook_utf16le.txt", EncUTF16LE, '\t', 1, map[string]string{"E-mail Address": "email", "Company": "company_name",
			"Business Phone": "phone", "Mobile Phone": "phone", "Categories": "tags"}, [3]string{"0", "First Name"}, "Chloé"},
		{"excel_de_1252.csv", Enc1252, ';', 2, map[string]string{"Vorname": "first_name", "Nachname": "last_name",
			"E-Mail-Adresse": "email", "Firma": "company_name", "Telefon": "phone", "Land": "country"}, [3]string{"1", "Nachname"}, "Öberg"},
		{"linkedin_connections.csv", EncUTF8, ',', 2, map[string]string{"URL": "linkedin_url", "Email Address": "email",
			"Company": "company_name", "Position": "", "Connected On": ""}, [3]string{"1", "Company"}, "Roth, Roth & Co"},
		{"pipe_crm.csv", EncUTF8, '|', 1, map[string]string{"Name": "full_name", "Email": "email", "Organization": "company_name",
			"Tags": "tags", "Owner": "owner_email"}, [3]string{"0", "Name"}, `Fay "Fifi" Wong`},
		{"crm_export.csv", EncUTF8, ',', 1, map[string]string{"first_name": "first_name", "linkedin_url": "linkedin_url",
			"segment_id": "segment_id", "owner_email": "owner_email"}, [3]string{"0", "tags"}, "x;y"},
		{"utf16be.csv", EncUTF16BE, ',', 1, map[string]string{"Full Name": "full_name", "Email": "email"}, [3]string{"0", "Full Name"}, "Hana Kim"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			f, err := Sniff(path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Encoding != c.enc || f.Delimiter != c.delim {
				t.Fatalf("encoding %s delimiter %q, want %s %q", f.Encoding, f.Delimiter, c.enc, c.delim)
			}
			m := AutoMap(f.Columns, nil, nil)
			for col, want := range c.mapped {
				if got, ok := m[col]; !ok || got != want {
					t.Errorf("column %q mapped to %q, want %q (columns %q)", col, got, want, f.Columns)
				}
			}
			rows, offs := readAll(t, path, f)
			if len(rows) != c.rows {
				t.Fatalf("%d rows, want %d: %q", len(rows), c.rows, rows)
			}
			col := -1
			for i, h := range f.Columns {
				if h == c.cell[1] {
					col = i
				}
			}
			ri := int(c.cell[0][0] - '0')
			if col < 0 || rows[ri][col] != c.cellWant {
				t.Fatalf("row %d column %q = %q, want %q", ri, c.cell[1], rows[ri], c.cellWant)
			}
			for i, off := range offs { // resuming at each saved position
				r, err := OpenRows(path, f, off)
				if err != nil {
					t.Fatal(err)
				}
				rec, _, err := r.Next()
				r.Close()
				if i == len(offs)-1 {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("after the last row: %q, %v", rec, err)
					}
					continue
				}
				if err != nil || strings.Join(rec, "\x00") != strings.Join(rows[i+1], "\x00") {
					t.Fatalf("resuming after row %d read %q (%v), want %q", i, rec, err, rows[i+1])
				}
			}
		})
	}
}

func TestPreambleAndQuotedNewlines(t *testing.T) {
	path := writeFile(t, "Report: customers\nGenerated 2024-05-01 by Sheets\n\nName,Email,Notes\n\"Ann\nMarie\",ann@example.com,\"said \"\"hi\"\"\"\nBo,bo@example.com,\n\n\n")
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Columns, "|") != "Name|Email|Notes" {
		t.Fatalf("header %q", f.Columns)
	}
	rows, _ := readAll(t, path, f)
	if len(rows) != 2 || rows[0][0] != "Ann\nMarie" || rows[0][2] != `said "hi"` {
		t.Fatalf("rows %q", rows)
	}
}

func TestBadFiles(t *testing.T) {
	cases := map[string]string{
		"":                             "The file is empty.",
		"   \n\n":                      "The file is empty.",
		"Name,Email\n":                 "header row but no rows",
		"Name,Email\n,\n\n":            "header row but no rows",
		"PK\x03\x04\x00\x00binary\x00": "not a CSV text file",
	}
	for in, want := range cases {
		_, err := Sniff(writeFile(t, in))
		if err == nil || !strings.Contains(err.Error(), want) || crm.CodeOf(err) != crm.CodeInvalid {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestDuplicateHeadersAndMapping(t *testing.T) {
	cols := uniqueColumns([]string{"Email", "Email", "", "Given Name"})
	if strings.Join(cols, "|") != "Email|Email (2)|Column 3|Given Name" {
		t.Fatalf("%q", cols)
	}
	m := AutoMap(cols, nil, nil)
	if m["Email"] != "email" || m["Email (2)"] != "email" || m["Given Name"] != "first_name" {
		t.Fatalf("%v", m)
	}
	cat := &Catalog{Products: map[string]crm.Product{"pro": {Key: "pro", Name: "Pro Plan"}},
		Fields: map[string]crm.CustomField{"industry": {Key: "industry", Label: "Industry"}}}
	m = AutoMap([]string{"E-mail Address", "Pro Plan Score", "INDUSTRY", "Business Phone", "Organization Name"}, nil, cat)
	want := map[string]string{"E-mail Address": "email", "Pro Plan Score": "score:pro", "INDUSTRY": "custom:industry",
		"Business Phone": "phone", "Organization Name": "company_name"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s -> %q, want %q", k, m[k], v)
		}
	}
	if err := CheckMapping([]string{"a", "b"}, map[string]string{"a": "company_name", "b": "company_name"}, cat); err == nil {
		t.Error("two columns to one target accepted")
	}
	if err := CheckMapping([]string{"a", "b", "c"}, map[string]string{"a": "email", "b": "email", "c": "phone"}, cat); err != nil {
		t.Errorf("two e-mail columns refused: %v", err)
	}
	if err := CheckMapping([]string{"a"}, map[string]string{"a": "tags"}, cat); err == nil {
		t.Error("a mapping without name or e-mail accepted")
	}
	if err := CheckMapping([]string{"a"}, map[string]string{"a": "score:nope"}, cat); err == nil {
		t.Error("an unknown product accepted")
	}
}

// A row over the limits comes back as a *RowTooBig with the cells before the
// limit, and reading goes on after it; an unclosed quote makes the rest of
// the file one such row, which says so.
func TestHugeFieldAndTooLongRecord(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	path := writeFile(t, "Name,Email,Notes\r\nAnn,ann@example.com,"+big+"\r\nBo,bo@example.com,ok\r\n")
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenRows(path, f, f.DataOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, _, err := r.Next()
	var tb *RowTooBig
	if !errors.As(err, &tb) || tb.Bytes != int64(len("Ann,ann@example.com,")+len(big)) || tb.Fields != 3 || tb.Unclosed ||
		len(rec) != 3 || rec[0] != "Ann" || rec[1] != "ann@example.com" || !strings.HasPrefix(big, rec[2]) || len(rec[2]) > MaxRowBytes {
		t.Fatalf("%q %v %+v", rec, err, tb)
	}
	if rec, _, err := r.Next(); err != nil || strings.Join(rec, "|") != "Bo|bo@example.com|ok" {
		t.Fatalf("the row after: %q %v", rec, err)
	}
	if _, _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}

	path = writeFile(t, "Name,Email\nAnn,\"ann@example.com\n"+strings.Repeat("y,z\n", (MaxRowBytes/4)+1000))
	f, err = Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err = OpenRows(path, f, f.DataOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, _, err = r.Next()
	if !errors.As(err, &tb) || !tb.Unclosed || !strings.Contains(err.Error(), "never closed") || len(rec) != 2 || rec[0] != "Ann" ||
		!strings.HasPrefix(rec[1], "ann@example.com\ny,z\n") {
		t.Fatalf("%q %v", rec, err)
	}
	if _, _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
