package sqlstore

import (
	"reflect"
	"testing"
	"time"
)

func TestParseTimeText(t *testing.T) {
	want := time.Date(2024, 11, 30, 20, 16, 29, 0, time.UTC)
	for _, v := range []string{"2024-11-30 20:16:29.271704+00:00", "2024-11-30 20:16:29+00:00", "2024-11-30T20:16:29Z",
		"2024-11-30 22:16:29.5+02:00", "2024-11-30T21:16:29+01:00", "1732997789"} {
		got, err := parseTimeText(v)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v", v, got, err)
		}
	}
	for _, v := range []string{"", "yesterday", "2024-1x-30 20:16:29+00:00"} {
		if _, err := parseTimeText(v); err == nil {
			t.Errorf("%q read as a time", v)
		}
	}
}

func TestDecodeJSONValue(t *testing.T) {
	for raw, want := range map[string]any{`"plain"`: "plain", `"a \"q\""`: `a "q"`, `12.5`: 12.5, `true`: true, `false`: false,
		`null`: nil, `["b","a"]`: []any{"b", "a"}, `"é\n"`: "é\n"} {
		got, err := decodeJSONValue(raw)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v %v", raw, got, err)
		}
	}
	if _, err := decodeJSONValue(`{"broken`); err == nil {
		t.Error("broken JSON decoded")
	}
}

func TestFieldReaderRefusesMalformedText(t *testing.T) {
	for _, s := range []string{"5:abc", "x:abc", "-1:", "3", ":"} {
		r := fieldReader{s: s}
		r.text()
		if r.err == nil {
			t.Errorf("%q read without an error", s)
		}
	}
	r := fieldReader{s: "3:a:b12,x"}
	if v, n := r.text(), r.int(','); v != "a:b" || n != 12 || r.err != nil || r.s != "x" {
		t.Errorf("read %q %d %v, left %q", v, n, r.err, r.s)
	}
}
