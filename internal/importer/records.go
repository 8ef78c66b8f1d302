package importer

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// RowTooBig is a row over MaxRowFields cells or MaxRowBytes bytes. It was
// counted to its end but not kept: the reader returns it with its first
// cells only, and goes on with the next row.
type RowTooBig struct {
	Fields   int64 // cells of the row
	Bytes    int64 // bytes of the row in the file (without the line end)
	Unclosed bool  // the row ran to the end of the file inside quotes
}

func (e *RowTooBig) Error() string {
	switch {
	case e.Fields > MaxRowFields:
		return fmt.Sprintf("This row has %s cells; at most %s are allowed (does the file use another delimiter, or is a value holding the delimiter not in quotes?).",
			thousands(e.Fields), thousands(MaxRowFields))
	case e.Unclosed:
		return fmt.Sprintf("This row is %s bytes long; at most %s are allowed: a quote opened in it is never closed, so it runs on to the end of the file and no row after it was read.",
			thousands(e.Bytes), thousands(MaxRowBytes))
	}
	return fmt.Sprintf("This row is %s bytes long; at most %s are allowed.", thousands(e.Bytes), thousands(MaxRowBytes))
}

// isTooBig reports whether err is a row over the limits (a failed row, not
// the end of reading).
func isTooBig(err error) bool {
	var tb *RowTooBig
	return errors.As(err, &tb)
}

// thousands writes n with thousands separators (1,048,576).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// recordReader reads CSV records as encoding/csv does with LazyQuotes (the
// same cells, line ends and blank lines), but enforces the row limits while
// it reads: a row's bytes and cells past the limits are counted, never kept,
// so that memory stays bounded whatever the file holds. The delimiter is one
// byte (, ; tab or |).
type recordReader struct {
	src   io.Reader
	buf   []byte
	pos   int
	end   int
	err   error // the error that ended reading (io.EOF at the end)
	off   int64 // bytes of the input consumed: the offset after the last record
	delim byte

	held     bool // a byte read after a \r, given back next
	heldByte byte
	crlf     bool // the last \n returned was \r\n in the input

	line   []byte   // the kept bytes of the current record's cells
	ends   []int    // where each kept cell ends in line
	rec    []string // the record returned (reused)
	fields int64    // cells of the current record, kept or not
}

func newRecordReader(src io.Reader, delim rune) *recordReader {
	return &recordReader{src: src, buf: make([]byte, 64<<10), delim: byte(delim)}
}

// raw returns the next byte of the input.
func (p *recordReader) raw() (byte, bool) {
	for p.pos == p.end {
		if p.err != nil {
			return 0, false
		}
		n, err := p.src.Read(p.buf)
		p.pos, p.end = 0, n
		if err != nil {
			p.err = err
		} else if n == 0 {
			p.err = io.ErrNoProgress
		}
	}
	b := p.buf[p.pos]
	p.pos++
	p.off++
	return b, true
}

// next returns the next byte with line ends made \n as encoding/csv makes
// them: \r\n is \n, and a \r that ends the input is dropped.
func (p *recordReader) next() (byte, bool) {
	var b byte
	if p.held {
		b, p.held = p.heldByte, false
	} else {
		var ok bool
		if b, ok = p.raw(); !ok {
			return 0, false
		}
	}
	if b != '\r' {
		p.crlf = false
		return b, true
	}
	c, ok := p.raw()
	switch {
	case !ok:
		return 0, false
	case c == '\n':
		p.crlf = true
		return '\n', true
	}
	p.held, p.heldByte = true, c
	return '\r', true
}

// read returns the next record, skipping empty lines; io.EOF at the end,
// or a *RowTooBig with the cells kept of a record over the limits.
func (p *recordReader) read() ([]string, error) {
	p.line, p.ends, p.fields = p.line[:0], p.ends[:0], 0
	start := p.off
	b, ok := p.next()
	for ok && b == '\n' {
		start = p.off
		b, ok = p.next()
	}
	if !ok {
		if p.err == io.EOF {
			return nil, io.EOF
		}
		return nil, p.err
	}
	const (
		fieldStart = iota
		unquoted
		quoted
		quoteInQuoted // a quote read inside a quoted cell
	)
	over := false // past a limit: count, keep nothing more
	keep := func(c byte) {
		if over {
			return
		}
		if p.off-start > MaxRowBytes {
			over = true
			return
		}
		if len(p.line) == cap(p.line) { // doubled, not append's 1.25: a long row costs twice its size, not five times
			p.line = append(make([]byte, 0, min(max(2*cap(p.line), 4096), MaxRowBytes)), p.line...)
		}
		p.line = append(p.line, c)
	}
	endField := func() {
		p.fields++
		if p.fields > MaxRowFields {
			over = true
		}
		if !over {
			p.ends = append(p.ends, len(p.line))
		}
	}
	state := fieldStart
	unclosed := false
read:
	for {
		switch state {
		case fieldStart:
			if ok && b == '"' {
				state = quoted
				break
			}
			state = unquoted
			continue // the same byte, in an unquoted cell
		case unquoted:
			switch {
			case !ok || b == '\n':
				endField()
				break read
			case b == p.delim:
				endField()
				state = fieldStart
			default:
				keep(b)
			}
		case quoted:
			switch {
			case !ok:
				unclosed = true
				endField()
				break read
			case b == '"':
				state = quoteInQuoted
			default:
				keep(b)
			}
		case quoteInQuoted:
			switch {
			case !ok || b == '\n':
				endField()
				break read
			case b == '"': // "" is a quote
				keep('"')
				state = quoted
			case b == p.delim:
				endField()
				state = fieldStart
			default: // a bare quote in a quoted cell is kept (lazy quotes)
				keep('"')
				keep(b)
				state = quoted
			}
		}
		if (state == unquoted || state == quoted) && !p.held {
			// the bytes up to the next one that matters, at once
			chunk := p.buf[p.pos:p.end]
			i := 0
			if state == unquoted {
				for i < len(chunk) && chunk[i] != p.delim && chunk[i] != '\n' && chunk[i] != '\r' {
					i++
				}
			} else {
				for i < len(chunk) && chunk[i] != '"' && chunk[i] != '\r' {
					i++
				}
			}
			if !over {
				n := min(i, int(max(MaxRowBytes-(p.off-start), 0)))
				if n < i {
					over = true
				}
				if len(p.line)+n > cap(p.line) {
					p.line = append(make([]byte, 0, max(min(max(2*cap(p.line), 4096), MaxRowBytes), len(p.line)+n)), p.line...)
				}
				p.line = append(p.line, chunk[:n]...)
			}
			p.pos += i
			p.off += int64(i)
		}
		b, ok = p.next()
	}
	if !ok && p.err != io.EOF {
		return nil, p.err
	}
	size := p.off - start
	if ok { // without the line end
		size--
		if p.crlf {
			size--
		}
	}
	if over && p.fields <= MaxRowFields && len(p.line) > lastOr0(p.ends) {
		p.ends = append(p.ends, len(p.line)) // the start of the cell that went over, to show
	}
	str := string(p.line[:lastOr0(p.ends)])
	p.rec = p.rec[:0]
	from := 0
	for _, e := range p.ends {
		p.rec = append(p.rec, str[from:e])
		from = e
	}
	if over || size > MaxRowBytes {
		return p.rec, &RowTooBig{Fields: p.fields, Bytes: size, Unclosed: unclosed}
	}
	return p.rec, nil
}

func lastOr0(s []int) int {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}
