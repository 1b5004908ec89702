package price

import (
	"fmt"
	"regexp"
	"strings"
)

// match is genai-prices' match logic on a lower-cased name. Not is ours:
// the generator turns the "^(?!.*X)" regexes RE2 lacks into not(regex X).
type match struct {
	Equals     *string  `json:"equals"`
	StartsWith *string  `json:"starts_with"`
	EndsWith   *string  `json:"ends_with"`
	Contains   *string  `json:"contains"`
	Regex      *string  `json:"regex"`
	Or         []*match `json:"or"`
	And        []*match `json:"and"`
	Not        *match   `json:"not"`

	re *regexp.Regexp
}

func (m *match) compile() error {
	if m == nil {
		return nil
	}
	if m.Regex != nil {
		re, err := regexp.Compile(*m.Regex)
		if err != nil {
			return fmt.Errorf("match regex: %w", err)
		}
		m.re = re
	}
	for _, sub := range append(append([]*match{m.Not}, m.Or...), m.And...) {
		if err := sub.compile(); err != nil {
			return err
		}
	}
	return nil
}

func (m *match) ok(s string) bool {
	if m == nil {
		return false
	}
	switch {
	case m.Equals != nil:
		return s == *m.Equals
	case m.StartsWith != nil:
		return strings.HasPrefix(s, *m.StartsWith)
	case m.EndsWith != nil:
		return strings.HasSuffix(s, *m.EndsWith)
	case m.Contains != nil:
		return strings.Contains(s, *m.Contains)
	case m.re != nil:
		return m.re.MatchString(s)
	case m.Not != nil:
		return !m.Not.ok(s)
	case m.Or != nil:
		for _, sub := range m.Or {
			if sub.ok(s) {
				return true
			}
		}
		return false
	case m.And != nil:
		for _, sub := range m.And {
			if !sub.ok(s) {
				return false
			}
		}
		return true
	}
	return false
}
