package crm

// SafeCell neutralises a cell of a CSV file that a spreadsheet would run as
// a formula (one starting with =, +, -, @, a tab or a carriage return) by
// prefixing an apostrophe. Every CSV the product writes for people to open
// (the export, the error report of an import, the skip reasons of a bulk
// action) passes its cells through it.
func SafeCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
