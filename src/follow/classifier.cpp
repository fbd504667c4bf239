// The classifier of each kind (follow.hpp), chosen by the kind's name.
#include "analyze_logs/follow.hpp"

namespace alog::follow {

std::unique_ptr<Classifier> make_classifier(std::string_view kind) {
  if (kind == "prime-rl") return make_primerl_classifier();
  if (kind == "srtctl") return make_srtctl_classifier();
  if (kind == "ray") return make_ray_classifier();
  return nullptr;
}

}  // namespace alog::follow
