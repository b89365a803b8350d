#pragma once
// The case outbox: messages about cases (status events for the customer's timeline, escalation
// notices for the actions dispatcher) stored in cases.db in the same SQLite transaction as the
// change that caused them, and deleted only after they were handed on durably. A crash between
// the two sends a row again; its receivers are idempotent (a repeated messageId is a duplicate,
// a repeated action idempotency key returns the existing action). Format: docs/format/cases.md
// `case_outbox`.
//
// Plain functions over a connection the caller owns and serialises (CaseManager holds its lock).

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cases/case_types.h"
#include "entity/sqlite_db.h"

namespace cairn::cases {

// The migration step that creates the table (cases.db schema step 2).
extern const std::string_view kOutboxSchema;

// Appends one row; `item.id` is ignored (assigned by SQLite).
Status AppendOutbox(entity::SqliteDb* db, const OutboxItem& item);
// The oldest `limit` rows, oldest first.
Result<std::vector<OutboxItem>> ReadOutbox(entity::SqliteDb* db, size_t limit);
// Deletes rows by id (unknown ids are ignored), in one transaction.
Status DeleteOutbox(entity::SqliteDb* db, const std::vector<uint64_t>& ids);

}  // namespace cairn::cases
