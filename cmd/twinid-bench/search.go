package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twinid/twinid/store"
)

// The search part: GET /customers/users at each of -search-sizes, each size in an account of
// its own holding exactly that many customers, so every search finds the same number of
// customers at every size: searchHits with an email prefix, a phone prefix, an email prefix
// and status=active, and status=disabled alone (exactly searchHits disabled customers,
// spread evenly over the account). Customers are seeded in key order (ids, emails and phone
// numbers all increase with i) with COPY on Postgres, so seeding a million takes seconds.

// searchHits is the number of customers every search finds (its limit).
const searchHits = 20

// searchGrowth is the upper bound of a search's p50 at a size over its p50 at the smallest
// size: the cost follows the hits, not the table.
const searchGrowth = 3.0

// searchKinds are the searches, in print order.
var searchKinds = []string{"email prefix", "phone prefix", "email prefix + status=active", "status=disabled"}

// searchRound is one round of one kind of search at one size.
type searchRound struct {
	p50, p99 time.Duration
	short    int // answers with fewer than searchHits items
	errors   int // answers not 200 or not readable
}

// searchRow is one kind of search at one size.
type searchRow struct {
	customers int
	kind      string
	rounds    []searchRound
}

// searchFigures are the figures of the search part.
type searchFigures struct {
	db   string
	rows []searchRow
}

// Seeded customer i of an account of n: its code is i in base 26 over six letters, so
// emails and phone numbers sort as i does, and 26 consecutive customers share a 5-letter
// email prefix and 100 a 9-character phone prefix; every n/searchHits-th is disabled.
func customerCode(i int) string {
	b := make([]byte, 6)
	for j := len(b) - 1; j >= 0; j-- {
		b[j] = 'a' + byte(i%26)
		i /= 26
	}
	return string(b)
}

func emailOf(i int) string { return customerCode(i) + "@example.com" }
func phoneOf(i int) string { return fmt.Sprintf("+47%08d", i) }

// disabled reports whether customer i of n is one of the searchHits disabled ones.
func disabled(i, n int) bool {
	step := max(1, n/searchHits)
	return i%step == step/2 && i/step < searchHits
}

func statusOf(i, n int) string {
	if disabled(i, n) {
		return store.CustomerDisabled
	}
	return store.CustomerActive
}

// searchQueries are the query strings of kind at size n: prefixes of customers spread over
// the whole account, each matching at least searchHits customers.
func searchQueries(kind string, n int) []url.Values {
	var out []url.Values
	for k := range 50 {
		i := (k * n / 50) / 100 * 100 // the first of a block of 100 consecutive customers
		if i+100 > n {
			i = max(0, n-100)
		}
		v := url.Values{"limit": {strconv.Itoa(searchHits)}}
		switch kind {
		case "email prefix":
			v.Set("email", emailOf(i)[:5])
		case "email prefix + status=active":
			v.Set("email", emailOf(i)[:5])
			v.Set("status", store.CustomerActive)
		case "phone prefix":
			v.Set("phoneNumber", phoneOf(i)[:9])
		case "status=disabled":
			v.Set("status", store.CustomerDisabled)
		}
		out = append(out, v)
	}
	return out
}

// seedCustomers inserts the n customers of account aid: COPY on Postgres, batches of
// multi-row inserts through the store on SQLite.
func seedCustomers(ctx context.Context, st *store.Store, dbURL, aid string, n int) error {
	base := time.Now().UTC()
	row := func(i int) (store.Customer, error) {
		id, err := uuid.NewV7()
		if err != nil {
			return store.Customer{}, err
		}
		email, phone := emailOf(i), phoneOf(i)
		at := base.Add(time.Duration(i) * time.Microsecond)
		return store.Customer{ID: id.String(), AID: aid, Type: "customer", Email: &email, EmailNorm: &email,
			PhoneNumber: &phone, Name: "Customer " + strconv.Itoa(i), Status: statusOf(i, n), Scopes: []string{},
			Metadata: map[string]any{}, CreatedAt: at, UpdatedAt: at}, nil
	}
	if isPostgres(dbURL) {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		cols := []string{"id", "aid", "type", "email", "email_norm", "phone_number", "name", "status", "scopes", "metadata", "created_at", "updated_at"}
		_, err = conn.CopyFrom(ctx, pgx.Identifier{"customers"}, cols, pgx.CopyFromFunc(func() func() ([]any, error) {
			i := 0
			return func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				c, err := row(i)
				i++
				return []any{c.ID, c.AID, c.Type, *c.Email, *c.EmailNorm, *c.PhoneNumber, c.Name, c.Status, "[]", "{}", c.CreatedAt, c.UpdatedAt}, err
			}
		}()))
		if err != nil {
			return fmt.Errorf("copy customers: %w", err)
		}
		// As autovacuum would soon: the planner needs to know the table's new size.
		_, err = conn.Exec(ctx, "ANALYZE customers")
		return err
	}
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		rows := make([]store.Customer, 0, batch)
		for i := lo; i < min(n, lo+batch); i++ {
			c, err := row(i)
			if err != nil {
				return err
			}
			rows = append(rows, c)
		}
		if err := st.DB().WithContext(ctx).CreateInBatches(rows, 200).Error; err != nil {
			return err
		}
	}
	return nil
}

// benchSearch seeds an account per size and measures rounds of n sequential searches of
// each kind in it.
func benchSearch(ctx context.Context, c *apiClient, srv *server, admin string, sizes []int, rounds, n int, logf func(string, ...any)) (searchFigures, error) {
	f := searchFigures{db: srv.dbName()}
	st, err := store.Open(ctx, store.Config{DatabaseURL: srv.db, DataDir: srv.dataDir})
	if err != nil {
		return f, err
	}
	defer st.Close()
	for _, size := range sizes {
		aid := "bench-search-" + strconv.Itoa(size)
		if err := c.jsonDo(ctx, http.MethodPost, "/v1/accounts", "Bearer "+admin, map[string]any{"aid": aid, "name": "Bench search"}, nil); err != nil {
			return f, err
		}
		t0 := time.Now()
		if err := seedCustomers(ctx, st, srv.db, aid, size); err != nil {
			return f, fmt.Errorf("seed customers: %w", err)
		}
		logf("search: seeded %d customers in %s", size, time.Since(t0).Round(time.Millisecond))
		for _, kind := range searchKinds {
			row := searchRow{customers: size, kind: kind}
			qs := searchQueries(kind, size)
			for range rounds {
				r, err := searchLatency(ctx, c, admin, aid, qs, n)
				if err != nil {
					return f, err
				}
				row.rounds = append(row.rounds, r)
			}
			f.rows = append(f.rows, row)
		}
	}
	return f, nil
}

// searchLatency sends n sequential searches (after n/10 unmeasured ones) rotating over
// queries and returns their p50/p99.
func searchLatency(ctx context.Context, c *apiClient, admin, aid string, queries []url.Values, n int) (searchRound, error) {
	var r searchRound
	lat := make([]time.Duration, 0, n)
	warm := n / 10
	for i := range warm + n {
		u := c.base + "/v1/accounts/" + aid + "/customers/users?" + queries[i%len(queries)].Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return r, err
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		t0 := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			return r, err
		}
		var page struct{ Items []json.RawMessage }
		derr := json.NewDecoder(resp.Body).Decode(&page)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if i < warm {
			continue
		}
		lat = append(lat, d)
		if resp.StatusCode != http.StatusOK || derr != nil {
			r.errors++
		}
		if len(page.Items) < searchHits {
			r.short++
		}
	}
	slices.Sort(lat)
	r.p50, r.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return r, nil
}

// figures are, per size, the p50 and p99 of each kind and one check that every answer was a
// 200 with searchHits customers; the p50 at each size above the smallest is held to
// searchGrowth times the p50 of the same kind at the smallest size.
func (f searchFigures) figures() []figure {
	var figs []figure
	smallest := map[string]float64{}
	short := map[int][]float64{} // per size, per round: answers short of searchHits or not 200
	var sizes []int
	for _, row := range f.rows {
		part := fmt.Sprintf("search @ %d customers (%s)", row.customers, f.db)
		if _, ok := short[row.customers]; !ok {
			sizes = append(sizes, row.customers)
			short[row.customers] = make([]float64, len(row.rounds))
		}
		var p50, p99 []float64
		for i, r := range row.rounds {
			p50, p99 = append(p50, float64(r.p50)), append(p99, float64(r.p99))
			short[row.customers][i] += float64(r.short + r.errors)
		}
		p := figure{part: part, name: row.kind + " p50", vals: p50, format: fmtMs}
		if s, ok := smallest[row.kind]; ok {
			p.op, p.target, p.note = "≤", searchGrowth*s, fmt.Sprintf("%.0f× its p50 at the smallest size", searchGrowth)
		} else {
			smallest[row.kind] = spreadOf(p50).med
		}
		figs = append(figs, p, figure{part: part, name: row.kind + " p99", vals: p99, format: fmtMs})
	}
	for _, n := range sizes {
		figs = append(figs, failures(fmt.Sprintf("search @ %d customers (%s)", n, f.db),
			fmt.Sprintf("answers not 200 or short of %d hits", searchHits), short[n]))
	}
	return figs
}
