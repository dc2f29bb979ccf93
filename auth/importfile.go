package auth

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// Reading a bulk import file: the CSV a spreadsheet writes, its header row in the many ways
// people name columns, and its rows by column. What the rows become is import.go's.

// Limits of one import file: a spreadsheet of a large agency's staff fits easily, and the
// preview stays quick.
const (
	MaxImportRows  = 5000
	MaxImportBytes = 10 << 20
)

// importColumns maps a header cell, normalised by columnKey, to the field it fills. Spreadsheet
// users write headers in many ways; these are the common ones.
var importColumns = map[string]string{
	"first": "first", "first name": "first", "firstname": "first", "given name": "first",
	"last": "last", "last name": "last", "lastname": "last", "surname": "last", "family name": "last",
	"email": "email", "e mail": "email", "email address": "email", "e mail address": "email",
	"phone": "phone", "phone number": "phone", "telephone": "phone",
	"agency": "agency", "agency name": "agency", "role": "role",
	"username": "username", "user name": "username",
}

// importHeaderHelp says what the header row must look like.
const importHeaderHelp = "The first row of the file must name the columns: first, last, email, phone, agency, role (and, if you choose usernames yourself, username; for completed trainings, training_<kind> with the date)."

// trainingColumn is the field prefix of a training_<kind> column: its cells are the dates the
// row's user completed that kind of training (hmisauth.TrainingPolicy). Which kinds the site
// has is checked by parseImport, which knows the site.
const trainingColumn = "training:"

// importRecord is one data row of the file, by column.
type importRecord struct {
	line   int
	fields map[string]string
	extra  bool // cells with something in them beyond the named columns
}

func (rec importRecord) newUser(site string) (NewUser, []string) {
	f := rec.fields
	// Spreadsheet users write roles as "User" or "Agency admin".
	role := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(f["role"])))
	req := NewUser{Site: site, FirstName: f["first"], LastName: f["last"], Email: f["email"], Phone: f["phone"],
		Agency: f["agency"], Role: role, Username: f["username"]}
	var errs []string
	if rec.extra {
		errs = append(errs, fmt.Sprintf("row %d: has something in a column without a name in the first row", rec.line))
	}
	return req, errs
}

// readImportFile reads the whole CSV file: its header, then every non-blank row.
func readImportFile(r io.Reader) ([]importRecord, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxImportBytes {
		return nil, hmisauth.Errorf(hmisauth.EINVALID, "The file is larger than 10 MiB. Split it into smaller files.")
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		return nil, hmisauth.Errorf(hmisauth.EINVALID,
			"Line %d of the file is not UTF-8 text. Save the spreadsheet as \"CSV UTF-8\" and try again.", line)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var columns []string
	var out []importRecord
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, hmisauth.Errorf(hmisauth.EINVALID,
				"Line %d of the file is not valid CSV (%v). Save the spreadsheet as CSV again, or put cells that contain quotes or commas in double quotes.",
				pe.Line, pe.Err)
		} else if err != nil {
			return nil, err
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // blank, or only commas: spreadsheets write empty rows like that
		}
		if columns == nil {
			if columns, err = importHeader(rec); err != nil {
				return nil, err
			}
			continue
		}
		if len(out) == MaxImportRows {
			return nil, hmisauth.Errorf(hmisauth.EINVALID, "The file has more than %d users. Split it into smaller files.", MaxImportRows)
		}
		line, _ := cr.FieldPos(0)
		ir := importRecord{line: line, fields: map[string]string{}}
		for i, cell := range rec {
			switch {
			case i < len(columns) && columns[i] != "":
				ir.fields[columns[i]] = cell
			case strings.TrimSpace(cell) != "":
				ir.extra = true
			}
		}
		out = append(out, ir)
	}
	if columns == nil {
		return nil, hmisauth.Errorf(hmisauth.EINVALID, "The file is empty. %s", importHeaderHelp)
	}
	if len(out) == 0 {
		return nil, hmisauth.Errorf(hmisauth.EINVALID, "The file has a header row but no users.")
	}
	return out, nil
}

// importHeader maps each header cell to its field ("" for an unnamed column).
func importHeader(rec []string) ([]string, error) {
	columns := make([]string, len(rec))
	seen := map[string]bool{}
	for i, cell := range rec {
		name := strings.TrimSpace(cell)
		if name == "" {
			continue
		}
		field, ok := importColumns[columnKey(name)]
		if kind, isTraining := strings.CutPrefix(columnKey(name), "training "); !ok && isTraining {
			field, ok = trainingColumn+strings.ReplaceAll(kind, " ", "_"), true
		}
		if !ok {
			hint := ""
			if len(rec) == 1 && strings.ContainsAny(name, ";\t") {
				hint = " The columns seem to be separated by semicolons or tabs: save the spreadsheet as CSV with commas."
			}
			return nil, hmisauth.Errorf(hmisauth.EINVALID, "The first row has a column %q that is not one we know. %s%s",
				truncateRunes(name, 40), importHeaderHelp, hint)
		}
		if seen[field] {
			return nil, hmisauth.Errorf(hmisauth.EINVALID, "The first row has the %s column twice (as %q). Keep one of them.",
				field, truncateRunes(name, 40))
		}
		seen[field], columns[i] = true, field
	}
	for _, need := range []string{"first", "last"} {
		if !seen[need] {
			return nil, hmisauth.Errorf(hmisauth.EINVALID, "The first row has no %s-name column. %s", need, importHeaderHelp)
		}
	}
	return columns, nil
}

// columnKey normalises a header cell: "E-mail Address", "email_address" and "Email  address"
// are all "email address".
func columnKey(s string) string {
	s = strings.NewReplacer("_", " ", "-", " ").Replace(strings.ToLower(s))
	return strings.Join(strings.Fields(s), " ")
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
