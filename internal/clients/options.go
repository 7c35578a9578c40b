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

// OptionsOr is OptionsOf as a value: the zero T when there are no settings.
func OptionsOr[T any](cloud string, options any) (T, error) {
	var zero T
	p, err := OptionsOf[T](cloud, options)
	if err != nil || p == nil {
		return zero, err
	}
	return *p, nil
}

// OptionsField is the field error of settings of the wrong type (OptionsOf's error), on the
// cloud's own block.
func OptionsField(cloud string, err error) FieldError {
	return FieldError{Field: cloud, Summary: "Settings for another cloud", Detail: err.Error()}
}
