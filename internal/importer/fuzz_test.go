package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzReader: sniffing and reading any bytes never panics; every row read
// can be read again from the position saved before it.
func fuzzReader(t *testing.T, data []byte) {
	f, err := sniffBytes(data, false)
	if err != nil {
		return
	}
	path := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rows, err := OpenRows(path, f, f.DataOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var recs [][]string
	var offs []int64
	for i := 0; i < 50; i++ {
		rec, off, err := rows.Next()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		recs = append(recs, append([]string(nil), rec...))
		offs = append(offs, off)
	}
	for i := 0; i+1 < len(recs); i++ {
		r, err := OpenRows(path, f, offs[i])
		if err != nil {
			t.Fatal(err)
		}
		rec, _, err := r.Next()
		r.Close()
		if err != nil || strings.Join(rec, "\x00") != strings.Join(recs[i+1], "\x00") {
			t.Fatalf("resume after row %d: %q %v, want %q", i, rec, err, recs[i+1])
		}
	}
	AutoMap(f.Columns, nil, nil)
}

// fuzzMapping: any header maps without panic, each target at most once
// (but the contact targets, which take any number of columns),
// and the automatic mapping passes the mapping check when it names someone.
func fuzzMapping(t *testing.T, header string) {
	cols := uniqueColumns(strings.Split(header, ","))
	m := AutoMap(cols, nil, &Catalog{})
	seen := map[string]bool{}
	for _, v := range m {
		if _, multi := ContactTargets[v]; v != "" && seen[v] && !multi {
			t.Fatalf("target %s used twice in %v", v, m)
		}
		seen[v] = true
	}
	if err := CheckMapping(cols, m, &Catalog{}); err != nil && (seen["email"] || seen["first_name"] || seen["last_name"] || seen["full_name"]) {
		t.Fatalf("automatic mapping %v refused: %v", m, err)
	}
}

var readerSeeds = []string{
	"Name,Email\nAnn,ann@example.com\n",
	"\xef\xbb\xbfa;b;c\n1;2;3\n",
	"\xff\xfeN\x00,\x00E\x00\n\x00x\x00,\x00y\x00\n\x00",
	"notes\n\nName\tEmail\n\"a\nb\"\tc\n",
	"a|b\n\"x|y\"|z\n\n\n",
	"Name,Email\n\"unclosed,quote\n",
	"\x00\x01\x02",
	"Vorname;E-Mail\nJ\xfcrgen;j@x.de\n",
	"a,b\n1,2,3,4\n",
	"",
}

var mappingSeeds = []string{"Given Name,Family Name,E-mail 1 - Value", "Email,Email,email", ",,,", "Ünïcödé,Nom,Prénom", "URL,Company,Labels"}

func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(fuzzReader)
}

func FuzzMapping(f *testing.F) {
	for _, s := range mappingSeeds {
		f.Add(s)
	}
	f.Fuzz(fuzzMapping)
}

// fuzzRecords: under the limits, the reader reads exactly what encoding/csv
// reads with lazy quotes (the same records, the same offsets after each).
func fuzzRecords(t *testing.T, data []byte, delim byte) {
	if delim != ',' && delim != ';' && delim != '\t' && delim != '|' {
		delim = ','
	}
	want := csv.NewReader(bytes.NewReader(data))
	want.Comma, want.FieldsPerRecord, want.LazyQuotes = rune(delim), -1, true
	got := newRecordReader(bytes.NewReader(data), rune(delim))
	got.buf = make([]byte, 7) // records across many reads
	for i := 0; ; i++ {
		wrec, werr := want.Read()
		grec, gerr := got.read()
		if (werr == nil) != (gerr == nil) || (werr != nil && !errors.Is(gerr, werr)) {
			t.Fatalf("%q record %d: error %v, encoding/csv %v", data, i, gerr, werr)
		}
		if werr != nil {
			return
		}
		if !slices.Equal(grec, wrec) || got.off != want.InputOffset() {
			t.Fatalf("%q record %d: %q at %d, encoding/csv %q at %d", data, i, grec, got.off, wrec, want.InputOffset())
		}
	}
}

var recordSeeds = []string{
	"a,b\r\nc,d\r\n", "\"a\"\"b\",c\n", "\"a\"b,c\n", "a\"b\"c,d", "\n\n\r\n\"x\ny\"\r", "\"\"\"\"\",\r\r\n,\r", "\"x\r\ny\"\r\n",
	"a,\"\", \"b\"\n", "\"unclosed,\n\nmore", "\r", "\xff\"\xfe,\"\xef\xbb\n", ",,,\n,", "a;b|c\td\n",
}

func FuzzRecords(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s), byte(','))
	}
	f.Fuzz(fuzzRecords)
}

// TestRecordsMatchEncodingCSV reads many random files of the characters that
// matter to CSV as encoding/csv does.
func TestRecordsMatchEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("a,;\"\"\r\n\n \t|\xc3")
	for range 20_000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		fuzzRecords(t, b, ",;\t|"[rng.IntN(4)])
	}
}

// TestFuzzSeeds is the short run of both fuzz targets that CI does with go
// test ./... (go test -fuzz=FuzzReader explores further).
func TestFuzzSeeds(t *testing.T) {
	for _, s := range readerSeeds {
		fuzzReader(t, []byte(s))
	}
	for _, s := range mappingSeeds {
		fuzzMapping(t, s)
	}
	for _, s := range recordSeeds {
		fuzzRecords(t, []byte(s), ',')
	}
}
