package store

import (
	"reflect"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Postgres keeps timestamps to the microsecond, SQLite keeps what it is given. Every time a
// row is written with is cut to the microsecond first, so the value a create or update
// leaves in the caller's struct (and answers with) is the value a later read returns, on
// either database.

// truncateTimes registers the cut before every create and update, and hands an update's
// stamps back to the struct that carried its values.
func truncateTimes(db *gorm.DB) error {
	if err := db.Callback().Create().Before("gorm:create").Register("twinid:microseconds", cutTimes); err != nil {
		return err
	}
	if err := db.Callback().Update().Before("gorm:update").Register("twinid:microseconds", cutTimes); err != nil {
		return err
	}
	if err := db.Callback().Update().After("gorm:update").Register("twinid:stamped", copyStamps); err != nil {
		return err
	}
	return db.Callback().Query().After("gorm:query").Register("twinid:utc", readUTC)
}

// utc is how a time is written: in UTC, as the package promises, and cut to the
// microsecond. UTC matters on SQLite, which stores a time as text in the writer's own
// offset and compares and sorts the text, so times written or compared in different zones
// misorder (DeleteRetired, ListSigningKeys, Touch). Times passed as query arguments go
// through it at the call site.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// readUTC returns every time read in UTC: SQLite's driver answers a fixed zone and pgx
// time.Local, so callers would otherwise format and compare in the database's zone.
func readUTC(db *gorm.DB) {
	if db.Error == nil {
		toUTC(db.Statement.ReflectValue)
	}
}

// toUTC sets the time.Time and *time.Time fields reachable from v (structs, slices,
// pointers) to UTC, in place.
func toUTC(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			toUTC(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			toUTC(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				toUTC(v.Field(i))
			}
		}
	}
}

var timeType = reflect.TypeOf(time.Time{})

// cutTimes truncates the time.Time and *time.Time fields of the statement's model and, for
// Model(&X{}).Updates(x), of x, which carries the values.
func cutTimes(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st.Schema == nil {
		return
	}
	cutValue(st, st.Schema, st.ReflectValue)
	if dest, ok := distinctDest(st); ok {
		cutValue(st, st.Schema, dest)
	}
}

// copyStamps hands the updated_at GORM wrote back to the caller: with
// Model(&Customer{}).Updates(c), GORM stamps autoUpdateTime columns with its own clock and
// records the value on the model, not on c, so c would answer a time the row does not hold.
func copyStamps(db *gorm.DB) {
	st := db.Statement
	dest, ok := distinctDest(st)
	if db.Error != nil || !ok {
		return
	}
	for _, f := range st.Schema.Fields {
		if f.AutoUpdateTime == 0 {
			continue
		}
		if v, zero := f.ValueOf(st.Context, st.ReflectValue); !zero {
			_ = f.Set(st.Context, dest, v)
		}
	}
}

// distinctDest is the struct carrying an update's values when it is not the model itself.
// Dest may be a slice or a map (not comparable): pointers are compared.
func distinctDest(st *gorm.Statement) (reflect.Value, bool) {
	if st.Schema == nil {
		return reflect.Value{}, false
	}
	dv := reflect.ValueOf(st.Dest)
	if dv.Kind() != reflect.Pointer || dv.IsNil() || dv.Elem().Type() != st.Schema.ModelType {
		return reflect.Value{}, false
	}
	if mv := reflect.ValueOf(st.Model); mv.Kind() == reflect.Pointer && mv.Pointer() == dv.Pointer() {
		return reflect.Value{}, false
	}
	return dv.Elem(), true
}

func cutValue(st *gorm.Statement, s *schema.Schema, v reflect.Value) {
	v = reflect.Indirect(v)
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			cutValue(st, s, v.Index(i))
		}
		return
	case reflect.Struct:
	default:
		return
	}
	if !v.CanAddr() || v.Type() != s.ModelType {
		return
	}
	for _, f := range s.Fields {
		if f.IndirectFieldType != timeType {
			continue
		}
		val, zero := f.ValueOf(st.Context, v)
		if zero {
			continue
		}
		switch t := val.(type) {
		case time.Time:
			_ = f.Set(st.Context, v, utc(t))
		case *time.Time:
			if t != nil {
				c := utc(*t)
				_ = f.Set(st.Context, v, &c)
			}
		}
	}
}
