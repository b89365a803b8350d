-- A schema-1 audit.db (docs/format/audit.md, "Schema version 1", exactly as released): five
-- records written before schema 2, when `customer` held the id as the request gave it. Three name
-- the erased customer of erasure_test.cc (by e-mail, by userId, by phone), one names nobody, one
-- another customer. Hashes: the chain formula of docs/format/audit.md (BLAKE2b-256, unkeyed),
-- computed with Python's hashlib.blake2b(digest_size=32). Loaded with sqlite3_exec into DIR/audit.db.
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor_key_id INTEGER NOT NULL,
  actor_name TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  session TEXT NOT NULL,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  customer TEXT NOT NULL,
  status INTEGER NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX audit_customer ON audit (customer, seq);
CREATE INDEX audit_actor ON audit (actor_key_id, seq);
CREATE INDEX audit_at ON audit (at_ms);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
INSERT INTO meta (key, value) VALUES ('schema_version', 1);
PRAGMA application_id = 1128355140;
INSERT INTO audit VALUES (1, 1767225600000, 5, 'desk-7', 'agent', '', 'GET', '/v1/customers/{id}', 'vic-mail-7f3a9c1e@example.com', 404, X'4596602611f02e595a72d46265b3714511d6f3b6f691e65c2575db2fb80cbd38');
INSERT INTO audit VALUES (2, 1767225601000, 5, 'desk-7', 'agent', 's3', 'GET', '/v1/customers/{id}/export', 'u:vic-uid-7f3a9c1e', 200, X'5053a32f034a4f82be23d4e3ea94765b02edd5f6f322de3380dd6bbe3fe3f1a2');
INSERT INTO audit VALUES (3, 1767225602000, 1, 'admin', 'admin', '', 'GET', '/v1/keys', '', 200, X'051954225a09b051482dd9666c48098af9d2042faa60f5d4daa5dc8944002f23');
INSERT INTO audit VALUES (4, 1767225603000, 5, 'desk-7', 'agent', '', 'GET', '/v1/customers/{id}/events', '+4915550173391', 200, X'63b65ea853bec05a724d5025f62c051cdddc9599448fcfba4a7c0287bce9669a');
INSERT INTO audit VALUES (5, 1767225604000, 9, 'bi', 'analyst', '', 'GET', '/v1/customers/{id}', 'keeper-0', 200, X'9187c511cc24b9050b8838b416d31976770d118d7efc8f7ea98c9bfc48111b0c');
