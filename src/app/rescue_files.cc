#include "app/rescue_files.h"

#include "io/env.h"

namespace cairn::app {

Result<std::unique_ptr<RescueFiles>> RescueFiles::Open(rescue::RescueStack* live, const std::string& data_dir) {
  std::unique_ptr<RescueFiles> f(new RescueFiles());
  if (live != nullptr) {
    f->engine_ = live->engine();
    f->dispatcher_ = live->dispatcher();
    return f;
  }
  const std::string rescue_path = io::JoinPath(data_dir, "rescue.db");
  const std::string actions_path = io::JoinPath(data_dir, "actions.db");
  if (io::Env::Posix()->FileExists(rescue_path)) {
    rescue::RescueOptions ro;
    ro.path = rescue_path;
    ro.metrics = &f->scratch_;
    ASSIGN_OR_RETURN(f->own_engine_, rescue::RescueEngine::Open(std::move(ro)));
    f->engine_ = f->own_engine_.get();
  }
  if (io::Env::Posix()->FileExists(actions_path)) {
    actions::DispatcherOptions d;
    d.path = actions_path;
    d.start_thread = false;  // nothing is sent from here
    d.metrics = &f->scratch_;
    ASSIGN_OR_RETURN(f->own_dispatcher_, actions::Dispatcher::Open(std::move(d)));
    f->dispatcher_ = f->own_dispatcher_.get();
  }
  return f;
}

RescueFiles::~RescueFiles() {
  if (own_dispatcher_) own_dispatcher_->Close();
}

}  // namespace cairn::app
