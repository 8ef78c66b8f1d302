package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/acme/crm/internal/crm"
)

// Encodings the reader recognises.
const (
	EncUTF8    = "utf-8"
	EncUTF16LE = "utf-16le"
	EncUTF16BE = "utf-16be"
	Enc1252    = "windows-1252"
)

// Limits of what one row may be. A row over MaxRowFields or MaxRowBytes is
// refused while it is read, before it is held in memory (so that a line of
// millions of delimiters costs no more than a short one), and reported as a
// failed row; no real export comes near them.
const (
	MaxColumns   = 500     // columns of the header
	MaxRowFields = 1000    // cells of a row (trailing empty cells count)
	MaxRowBytes  = 1 << 20 // bytes of a row as in the file, without its line end
	sampleBytes  = 256 << 10
)

// Format is what sniffing learned about a file: enough to reopen it at any
// position. Offsets count bytes of the decoded (UTF-8) text after the BOM.
type Format struct {
	Encoding   string
	BOM        int  // bytes of byte-order mark
	Delimiter  rune // , ; \t or |
	Header     []string
	Columns    []string // the header made unique ("Email", "Email (2)")
	DataOffset int64    // where the first row after the header starts
}

// Sniff reads the start of a file and works out its encoding, delimiter and
// header row (skipping notes some exporters write above it). It refuses, with
// a message for a person, files that are empty, binary, or have no rows.
func Sniff(path string) (*Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, sampleBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	return sniffBytes(head, n == sampleBytes)
}

// SniffBytes is Sniff over bytes in memory (the whole file when more is false).
func sniffBytes(head []byte, more bool) (*Format, error) {
	f := &Format{Encoding: EncUTF8}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		f.BOM = 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		f.Encoding, f.BOM = EncUTF16LE, 2
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		f.Encoding, f.BOM = EncUTF16BE, 2
	}
	if len(bytes.TrimSpace(head[f.BOM:])) == 0 {
		return nil, crm.Invalid("file", "The file is empty.")
	}
	text, err := decodeAll(f.Encoding, head[f.BOM:])
	if err != nil {
		return nil, crm.Invalid("file", "The file could not be decoded as %s.", f.Encoding)
	}
	if f.Encoding == EncUTF8 {
		valid := text
		if more { // the sample may end inside a character
			for i := 0; i < utf8.UTFMax && len(valid) > 0 && !utf8.Valid(valid); i++ {
				valid = valid[:len(valid)-1]
			}
		}
		if !utf8.Valid(valid) {
			f.Encoding = Enc1252
			if text, err = decodeAll(Enc1252, head[f.BOM:]); err != nil {
				return nil, err
			}
		}
	}
	if looksBinary(text) {
		return nil, crm.Invalid("file", "This is not a CSV text file (it holds binary data). Export the sheet as CSV and upload that.")
	}
	if more { // drop the last, probably cut, line from the sample
		if i := bytes.LastIndexByte(text, '\n'); i > 0 {
			text = text[:i+1]
		}
	}
	f.Delimiter = detectDelimiter(text)
	r := newRecordReader(bytes.NewReader(text), f.Delimiter)
	var recs [][]string
	var ends []int64
	big := map[int]*RowTooBig{}
	for len(recs) < 200 {
		rec, err := r.read()
		var tb *RowTooBig
		if err != nil && !errors.As(err, &tb) {
			break
		}
		if tb != nil {
			big[len(recs)] = tb
		}
		recs = append(recs, append([]string(nil), rec...))
		ends = append(ends, r.off)
	}
	h := headerIndex(recs)
	if h < 0 {
		return nil, crm.Invalid("file", "The file has no header row.")
	}
	if tb := big[h]; tb != nil && tb.Fields <= MaxColumns {
		return nil, crm.Invalid("file", "The header row is longer than %s bytes: this is not a CSV file of customers.", thousands(MaxRowBytes))
	} else if tb != nil || len(recs[h]) > MaxColumns {
		n := int64(len(recs[h]))
		if tb != nil {
			n = tb.Fields
		}
		return nil, crm.Invalid("file", "The header has %s columns; at most %d are supported.", thousands(n), MaxColumns)
	}
	f.Header = recs[h]
	f.Columns = uniqueColumns(recs[h])
	f.DataOffset = ends[h]
	hasRow := false
	for _, rec := range recs[h+1:] {
		if !blank(rec) {
			hasRow = true
			break
		}
	}
	if !hasRow && !more {
		return nil, crm.Invalid("file", "The file has a header row but no rows below it: there is nothing to import.")
	}
	return f, nil
}

func decodeAll(enc string, b []byte) ([]byte, error) {
	d := decoder(enc)
	if d == nil {
		return b, nil
	}
	out, _, err := transform.Bytes(d, b)
	return out, err
}

// decoder returns the transformer from enc to UTF-8 (nil for UTF-8).
func decoder(enc string) transform.Transformer {
	switch enc {
	case EncUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case EncUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	case Enc1252:
		return charmap.Windows1252.NewDecoder()
	}
	return nil
}

// looksBinary: NUL bytes or many control characters do not occur in text.
func looksBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			ctl++
		}
	}
	return ctl > len(b)/100+1
}

// detectDelimiter picks the candidate that splits the most lines into the
// same number of fields (more than one).
func detectDelimiter(text []byte) rune {
	best, bestScore := ',', -1
	for _, d := range []rune{',', ';', '\t', '|'} {
		r := newRecordReader(bytes.NewReader(text), d)
		counts := map[int]int{}
		for i := 0; i < 100; i++ {
			rec, err := r.read()
			var tb *RowTooBig
			if err != nil && !errors.As(err, &tb) {
				break
			}
			if len(rec) > 1 {
				counts[len(rec)]++
			}
		}
		score := 0
		for width, c := range counts {
			score = max(score, c*1000+min(width, 999))
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// headerIndex finds the header among the first records: the first record as
// wide as most of the records, with at least half of its cells filled; the
// lines above it are notes.
func headerIndex(recs [][]string) int {
	counts := map[int]int{}
	for _, r := range recs {
		if !blank(r) {
			counts[len(r)]++
		}
	}
	mode, most := 0, 0
	for w, c := range counts {
		if c > most || (c == most && w > mode) {
			mode, most = w, c
		}
	}
	for i, r := range recs {
		if len(r) == mode && !blank(r) {
			filled := 0
			for _, c := range r {
				if strings.TrimSpace(c) != "" {
					filled++
				}
			}
			if filled*2 >= len(r) {
				return i
			}
		}
	}
	for i, r := range recs {
		if !blank(r) {
			return i
		}
	}
	return -1
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func uniqueColumns(header []string) []string {
	out := make([]string, len(header))
	seen := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.ToValidUTF8(h, "\uFFFD"))
		if h == "" {
			h = fmt.Sprintf("Column %d", i+1)
		}
		seen[h]++
		if seen[h] > 1 {
			h = fmt.Sprintf("%s (%d)", h, seen[h])
		}
		out[i] = h
	}
	return out
}

// Rows reads the data rows of a file from a position.
type Rows struct {
	f    *os.File
	rr   *recordReader
	base int64 // decoded offset where reading started
}

// OpenRows opens path at the decoded offset (DataOffset for a new import, or
// the position saved by the last batch).
func OpenRows(path string, format *Format, offset int64) (*Rows, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var src io.Reader
	if format.Encoding == EncUTF8 {
		if _, err := f.Seek(int64(format.BOM)+offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		src = f
	} else { // variable-width transcoding: decode from the start and skip
		if _, err := f.Seek(int64(format.BOM), io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		src = transform.NewReader(bufio.NewReaderSize(f, 64<<10), decoder(format.Encoding))
		if _, err := io.CopyN(io.Discard, src, offset); err != nil {
			f.Close()
			return nil, fmt.Errorf("skipping to the saved position: %w", err)
		}
	}
	return &Rows{f: f, rr: newRecordReader(src, format.Delimiter), base: offset}, nil
}

// Next returns the next non-blank record (reused on the next call) and the
// decoded offset just after it; io.EOF at the end. A row over the limits
// comes with a *RowTooBig error, its first cells (as many as the limits
// allow) and the offset after it: the caller reports it and reads on.
func (r *Rows) Next() ([]string, int64, error) {
	for {
		rec, err := r.rr.read()
		var tb *RowTooBig
		if err != nil && !errors.As(err, &tb) {
			return nil, 0, err
		}
		if tb == nil && blank(rec) {
			continue
		}
		for i, c := range rec {
			if !utf8.ValidString(c) {
				rec[i] = strings.ToValidUTF8(c, "\uFFFD")
			}
		}
		return rec, r.base + r.rr.off, err
	}
}

// Close closes the file.
func (r *Rows) Close() error { return r.f.Close() }
