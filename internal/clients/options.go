package clients

import "reflect"

// OptionsOf reads a cloud's own settings out of an opaque Options field (InstanceSpec.Options,
// InstanceUpdate.Options, ClusterSpec.Options): nil when there are none, else the settings as a
// *T, whether the field holds a *T or a T. Settings of any other type (another cloud's) are an
// ErrInvalid error naming both types, never a panic.
func OptionsOf[T any](cloud string, options any) (*T, error) {
	switch o := options.(type) {
	case nil:
		return nil, nil
	case *T:
		return o, nil
	case T:
		return &o, nil
	}
	if v := reflect.ValueOf(options); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, nil // a nil pointer of another cloud's type says "none" all the same
	}
	var want *T
	return nil, Errorf(ErrInvalid, "the %s cloud cannot use settings of type %T: it takes a %T", cloud, options, want)
}

// optionsZero reports whether opaque options change nothing: none, a nil pointer, a value whose
// IsZero says so, or a zero value.
func optionsZero(options any) bool {
	if options == nil {
		return true
	}
	v := reflect.ValueOf(options)
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return true
	}
	if z, ok := options.(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	return v.IsZero()
}
