package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// EnvPrefix starts every environment variable the hub reads.
const EnvPrefix = "HUB_"

// envKey describes one setting reachable from the environment.
type envKey struct {
	name string // HUB_SERVER_LISTEN
	path string // server.listen
	ptr  reflect.Value
}

// envKeys lists every leaf setting of c with its variable name: the dotted
// yaml path, upper-cased, with '.' as '_'.
func (c *Config) envKeys() []envKey {
	var out []envKey
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			p := tag
			if path != "" {
				p = path + "." + tag
			}
			fv := v.Field(i)
			if f.Type.Kind() == reflect.Struct {
				walk(fv, p)
				continue
			}
			name := EnvPrefix + strings.ToUpper(strings.ReplaceAll(p, ".", "_"))
			out = append(out, envKey{name: name, path: p, ptr: fv})
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return out
}

// EnvNames returns the names of all environment variables the hub reads.
func EnvNames() []string {
	var names []string
	for _, k := range Default().envKeys() {
		names = append(names, k.name)
	}
	sort.Strings(names)
	return names
}

// ApplyEnv sets every setting whose HUB_* variable is present in environ
// (as from os.Environ). Other HUB_* variables are ignored: Kubernetes
// injects HUB_SERVICE_HOST and the like for a service named hub.
func (c *Config) ApplyEnv(environ []string) error {
	values := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			values[k] = v
		}
	}
	for _, k := range c.envKeys() {
		v, ok := values[k.name]
		if !ok {
			continue
		}
		if err := setFromString(k.ptr, v); err != nil {
			return fmt.Errorf("environment %s (%s): %w", k.name, k.path, err)
		}
		if section, key, _ := strings.Cut(k.path, "."); section == "alerting" {
			c.Alerting.markGiven(key)
		}
	}
	return nil
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// setFromString parses s into the field v according to its type.
func setFromString(v reflect.Value, s string) error {
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	case reflect.Slice:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}
