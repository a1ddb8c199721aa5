package ghspec

import "errors"

// uriTemplate replaces the library's "uri-template" check, which splits the
// value at "/" and so refuses RFC 6570's path-segment expansions, the
// templates GitHub writes in every object ("…/pulls{/number}",
// "…/{archive_format}{/ref}"). A template is literal text and
// {expressions} that neither nest nor stay open
// (https://www.rfc-editor.org/rfc/rfc6570#section-2).
func uriTemplate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	open := false
	for _, ch := range s {
		switch ch {
		case '{':
			if open {
				return errors.New("nested curly braces")
			}
			open = true
		case '}':
			if !open {
				return errors.New("closing brace without an opening one")
			}
			open = false
		}
	}
	if open {
		return errors.New("no matching closing brace")
	}
	return nil
}
