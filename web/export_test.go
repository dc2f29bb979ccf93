package web

// StatusOf exposes the error-code table to the black-box tests (fuzz_test.go).
func StatusOf(code string) int { return statusByCode[code] }
