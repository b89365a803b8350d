-- A schema-1 profiles.db (docs/format/profiles.md, "Schema version 1", exactly as released), as
-- the writer left it: customer 2 (u:alice, e:alice@example.com, p:+15551234) and customer 1
-- (a:device-9, linked first) merged into 2; a trait; applied_seq 12. Loaded with sqlite3_exec.
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('applied_seq', 0), ('durable_seq', 0);
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  first_seen_ms INTEGER,
  last_seen_ms INTEGER,
  interaction_count INTEGER NOT NULL DEFAULT 0,
  merged_into INTEGER
);
CREATE TABLE identity_ops (
  ord INTEGER PRIMARY KEY AUTOINCREMENT,
  kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
  customer INTEGER NOT NULL,
  from_customer INTEGER,
  key TEXT,
  batch_seq INTEGER NOT NULL
);
CREATE TABLE identities (
  key TEXT PRIMARY KEY NOT NULL,
  customer INTEGER NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  linked_at_ms INTEGER NOT NULL,
  ord INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX identities_by_customer ON identities (customer, ord);
CREATE TABLE merges (
  from_customer INTEGER PRIMARY KEY,
  into_customer INTEGER NOT NULL,
  merged_at_ms INTEGER NOT NULL,
  ord INTEGER NOT NULL
);
CREATE INDEX merges_by_into ON merges (into_customer);
CREATE TABLE traits (
  customer INTEGER NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  set_at_ms INTEGER NOT NULL,
  set_seq INTEGER NOT NULL,
  once INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (customer, key)
) WITHOUT ROWID;
CREATE TABLE groups (
  customer INTEGER NOT NULL,
  group_id TEXT NOT NULL,
  joined_at_ms INTEGER NOT NULL,
  PRIMARY KEY (customer, group_id)
) WITHOUT ROWID;
CREATE TABLE group_traits (
  group_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  set_at_ms INTEGER NOT NULL,
  set_seq INTEGER NOT NULL,
  PRIMARY KEY (group_id, key)
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('schema_version', 1);
PRAGMA application_id = 1129337414;
UPDATE meta SET value = 12 WHERE key = 'applied_seq';
INSERT INTO identity_ops (ord, kind, customer, from_customer, key, batch_seq) VALUES
  (1, 1, 1, NULL, 'a:device-9', 0),
  (2, 1, 2, NULL, 'u:alice', 2),
  (3, 1, 2, NULL, 'e:alice@example.com', 2),
  (4, 2, 2, 1, NULL, 5),
  (5, 1, 2, NULL, 'p:+15551234', 5);
INSERT INTO identities (key, customer, kind, value, linked_at_ms, ord) VALUES
  ('a:device-9', 1, 'anonymousId', 'device-9', 1767225600005, 1),
  ('u:alice', 2, 'userId', 'alice', 1767225601005, 2),
  ('e:alice@example.com', 2, 'email', 'alice@example.com', 1767225601005, 3),
  ('p:+15551234', 2, 'phone', '+15551234', 1767225602005, 5);
INSERT INTO merges (from_customer, into_customer, merged_at_ms, ord) VALUES (1, 2, 1767225602005, 4);
INSERT INTO customers (id, first_seen_ms, last_seen_ms, interaction_count, merged_into) VALUES
  (1, NULL, NULL, 0, 2),
  (2, NULL, NULL, 0, NULL);
INSERT INTO traits (customer, key, value_json, set_at_ms, set_seq, once) VALUES
  (2, 'plan', '"pro"', 1767225601000, 3, 0);
