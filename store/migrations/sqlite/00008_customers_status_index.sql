-- +goose Up
-- Customer search filtered by status (GET /customers/users?status=...) without a prefix is
-- ordered by id: this index serves it as one range scan, where the (aid, id) index had to
-- walk every customer of the account to find a rare status. With an email or phone prefix
-- the prefix indexes bound the scan and the status is filtered within that range.
CREATE INDEX customers_aid_status_idx ON customers (aid, status, id);

-- +goose Down
DROP INDEX customers_aid_status_idx;
