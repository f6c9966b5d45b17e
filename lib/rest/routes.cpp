#include "routes.hpp"

#include <algorithm>
#include <stdexcept>

namespace banyan::rest {

void RouteTable::add(Route route) {
  auto segments = split(route.path, '/');
  auto same = std::find_if(templates_.begin(), templates_.end(),
                           [&](const Template& t) { return t.path == route.path; });
  if (same == templates_.end()) {
    Template t;
    t.path = route.path;
    t.literals = static_cast<std::size_t>(std::count_if(
        segments.begin(), segments.end(), [](const std::string& s) { return s.front() != '{'; }));
    t.segments = std::move(segments);
    templates_.push_back(std::move(t));
    same = templates_.end() - 1;
  }
  for (std::size_t i : same->routes)
    if (routes_[i].method == route.method)
      throw std::logic_error("two routes for " + route.method + " " + route.path);
  same->routes.push_back(routes_.size());
  routes_.push_back(std::move(route));
}

void RouteTable::add_components(std::function<void(openapi::Builder&)> components) {
  components_.push_back(std::move(components));
}

RouteTable::Match RouteTable::match(const std::string& method,
                                    const std::vector<std::string>& segments) const {
  const Template* best = nullptr;
  for (const auto& t : templates_) {
    if (t.segments.size() != segments.size() || (best && t.literals <= best->literals)) continue;
    bool fits = true;
    for (std::size_t i = 0; fits && i < segments.size(); ++i)
      fits = t.segments[i].front() == '{' || t.segments[i] == segments[i];
    if (fits) best = &t;
  }
  Match m;
  if (best == nullptr) return m;
  m.path = best->path;
  for (std::size_t i : best->routes) {
    const Route& r = routes_[i];
    m.allow += (m.allow.empty() ? "" : ", ") + r.method;
    m.credentials =
        m.credentials || (r.access != RouteAccess::kHealth && r.access != RouteAccess::kPublic);
    if (r.method == method) m.route = &r;
  }
  if (m.route != nullptr)
    for (std::size_t i = 0; i < segments.size(); ++i)
      if (best->segments[i].front() == '{') m.params.push_back(segments[i]);
  return m;
}

const RouteTable& api_routes() {
  static const RouteTable table = [] {
    RouteTable t;
    add_system_routes(t);
    add_record_routes(t);
    add_action_routes(t);
    add_relation_routes(t);
    add_search_routes(t);
    add_event_routes(t);
    add_custom_field_routes(t);
    add_access_routes(t);
    add_admin_routes(t);
    return t;
  }();
  return table;
}

}  // namespace banyan::rest
