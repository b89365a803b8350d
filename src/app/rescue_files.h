#pragma once
// RescueFiles: the rescue decisions (DIR/rescue.db) and actions (DIR/actions.db) of a data
// directory for code that reads or erases them per customer — export and erasure. A server runs
// the rescue stack and hands its live modules; offline commands (`cairn export`, `cairn erase`)
// run without it and must send no webhook, so the files are opened standalone: no dispatcher
// thread, a scratch metrics registry. A file that does not exist leaves its pointer null.
//
// Thread-safety: as the modules'. The live modules must outlive this object.

#include <memory>
#include <string>

#include "actions/dispatcher.h"
#include "base/metrics.h"
#include "base/result.h"
#include "rescue/rescue_engine.h"
#include "rescue/rescue_stack.h"

namespace cairn::app {

class RescueFiles {
 public:
  // `live`: the hub's rescue stack, or null (then DIR/rescue.db and DIR/actions.db are opened).
  static Result<std::unique_ptr<RescueFiles>> Open(rescue::RescueStack* live, const std::string& data_dir);
  ~RescueFiles();  // closes standalone modules (live ones are left alone)

  rescue::RescueEngine* engine() const { return engine_; }        // null: no rescue.db
  actions::Dispatcher* dispatcher() const { return dispatcher_; }  // null: no actions.db

 private:
  RescueFiles() = default;
  metrics::Registry scratch_;  // standalone modules must not touch the process's metrics
  std::unique_ptr<rescue::RescueEngine> own_engine_;
  std::unique_ptr<actions::Dispatcher> own_dispatcher_;
  rescue::RescueEngine* engine_ = nullptr;
  actions::Dispatcher* dispatcher_ = nullptr;
};

}  // namespace cairn::app
