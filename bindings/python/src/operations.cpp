// The use cases, each a module function on a transaction (banyan/__init__.py wraps them):
// records by type name, custom fields, relations, search, lead conversion, merges, deal
// stages, history, events. Python arguments are converted with the GIL held, the engine
// runs without it (in_transaction), and its answer is converted back with it.
#include <pybind11/stl.h>

#include "binding.hpp"

namespace banyan::python {

namespace {

using Transaction = std::shared_ptr<TransactionState>;
using Who = const security::Principal&;

ObjectType type_named(const std::string& name) { return parse_object_type(name); }

// A use case of several steps, each writing (in_transaction's `several_steps`): a lead's
// conversion, a merge, a custom field renamed or removed across stored records. One record's
// write is not one: it fails before it writes (checks, or the row's own statement, which
// the database undoes), so it needs no savepoint, and a savepoint costs SQLite's full-text
// index a flush of its pending terms each time.
template <typename Work>
auto several_steps(TransactionState& tx, Work&& work) {
  return in_transaction(tx, std::forward<Work>(work), true);
}

ObjectRef ref_of(py::handle ref) {
  // (type, id), or a record object (its class's _type and its id).
  if (py::isinstance<py::tuple>(ref) && py::len(ref) == 2) {
    const auto pair = py::reinterpret_borrow<py::tuple>(ref);
    return {type_named(text_of(pair[0], "type")), id_of(pair[1], "id")};
  }
  if (py::hasattr(ref, "_type") && py::hasattr(ref, "id"))
    return {type_named(text_of(ref.attr("_type"), "type")), id_of(ref.attr("id"), "id")};
  throw ValidationError("expected a record or a (type, id) pair", "target");
}

py::tuple ref_to_python(const ObjectRef& ref) {
  const auto name = to_string(ref.type);
  return py::make_tuple(py::str(name.data(), name.size()), ref.id);
}

py::object outcome_of(WriteOutcome outcome) {
  const auto name = to_string(outcome);
  return py::str(name.data(), name.size());
}

// ---- records ------------------------------------------------------------------------------

py::object get(const Transaction& tx, const std::string& type, py::handle id_value) {
  const Id id = id_of(id_value, "id");
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    return record_to_python(in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).get(uow, id);
    }));
  });
}

py::object find_by_external_id(const Transaction& tx, const std::string& type,
                               const std::string& external_id) {
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    const auto found = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).find_by_external_id(uow, external_id);
    });
    return found ? py::object(record_to_python(*found)) : py::object(py::none());
  });
}

py::object create(const Transaction& tx, const std::string& type, const py::dict& values) {
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    const auto made = record_of<T>(values);  // the record, and where its creation comes from
    return record_to_python(in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).create(uow, made.first, made.second);
    }));
  });
}

py::object patch(const Transaction& tx, const std::string& type, py::handle id_value,
                 const py::dict& values, std::optional<std::uint64_t> expected_version) {
  const Id id = id_of(id_value, "id");
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    auto p = patch_of<T>(values);
    p.expected_version = expected_version;
    const auto result = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).patch(uow, id, p);
    });
    return py::make_tuple(record_to_python(result.record), outcome_of(result.outcome));
  });
}

py::object upsert(const Transaction& tx, const std::string& type, const py::dict& values) {
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    // Each value converted once: the whole record (what a create makes), naming every field
    // given but the external id, the supplied creation pair and the custom values (which
    // the patch sets one by one).
    auto made = record_of<T>(values);
    if (!made.first.external_id)
      throw ValidationError("external_id: an upsert needs the external id", "external_id");
    Patch<T> p;
    for (auto [key, value] : values) {
      std::string name = text_of(key, "field");
      if (name != "external_id" && name != "created_at" && name != "created_by" && name != "custom")
        p.name(std::move(name));
    }
    p.custom = made.first.custom;
    p.values = std::move(made.first);
    p.creation = made.second;
    const auto result = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).upsert(uow, p);
    });
    return py::make_tuple(record_to_python(result.record), outcome_of(result.outcome));
  });
}

py::object archive(const Transaction& tx, const std::string& type, py::handle id_value,
                   bool restore) {
  const Id id = id_of(id_value, "id");
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    return record_to_python(in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      const auto service = service_of<T>(e, who);
      return restore ? service.restore(uow, id) : service.archive(uow, id);
    }));
  });
}

void remove(const Transaction& tx, const std::string& type, py::handle id_value) {
  const Id id = id_of(id_value, "id");
  with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      service_of<T>(e, who).remove(uow, id);
    });
    return py::none();
  });
}

// sort: field names, "-" before one for descending.
store::PageRequest page_request(py::handle filter, const std::vector<std::string>& sort,
                                std::size_t limit, const std::optional<std::string>& cursor,
                                bool include_archived) {
  store::PageRequest request;
  request.filter = filter_of(filter);
  for (std::size_t i = 0; i < sort.size(); ++i) {
    const bool descending = sort[i].starts_with('-');
    store::Sort key{descending ? sort[i].substr(1) : sort[i], descending};
    if (i == 0) {
      request.sort = std::move(key);
    } else {
      request.then_by.push_back(std::move(key));
    }
  }
  request.limit = limit;
  request.cursor = cursor;
  request.include_archived = include_archived;
  return request;
}

py::object query(const Transaction& tx, const std::string& type, py::handle filter,
                 const std::vector<std::string>& sort, std::size_t limit,
                 const std::optional<std::string>& cursor, bool include_archived) {
  const auto request = page_request(filter, sort, limit, cursor, include_archived);
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    const auto page = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).query(uow, request);
    });
    py::list items;
    for (const auto& record : page.items) items.append(record_to_python(record));
    return py::make_tuple(
        items, page.next_cursor ? py::object(py::str(*page.next_cursor)) : py::object(py::none()));
  });
}

std::uint64_t count(const Transaction& tx, const std::string& type, py::handle filter,
                    bool include_archived) {
  const auto f = filter_of(filter);
  std::uint64_t n = 0;
  with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    n = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).count(uow, f, include_archived);
    });
    return py::none();
  });
  return n;
}

py::list changes_to_python(const std::vector<store::FieldChange>& changes) {
  py::list out;
  for (const auto& c : changes) {
    py::dict d;
    d["entry"] = c.entry;
    d["at"] = to_python(c.at);
    d["actor_id"] = c.actor_id ? py::object(py::int_(*c.actor_id)) : py::object(py::none());
    d["actor"] = c.actor;
    d["action"] = c.action;
    d["field"] = c.field;
    d["before"] = c.before;  // JSON texts; the package decodes them
    d["after"] = c.after;
    out.append(d);
  }
  return out;
}

py::list history(const Transaction& tx, const std::string& type, py::handle id_value,
                 const std::string& field) {
  const ObjectRef record{type_named(type), id_of(id_value, "id")};
  return changes_to_python(in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.history(uow, who, record, field);
  }));
}

py::object as_of(const Transaction& tx, const std::string& type, py::handle id_value,
                 py::handle when) {
  const Id id = id_of(id_value, "id");
  const Timestamp at = timestamp_of(when, "when");
  return with_record_type(type_named(type), [&]<typename T>(std::type_identity<T>) -> py::object {
    return record_to_python(in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return service_of<T>(e, who).as_of(uow, id, at);
    }));
  });
}

// ---- custom fields ------------------------------------------------------------------------

py::dict definition_to_python(const CustomFieldDefinition& d) {
  py::dict out;
  out["id"] = d.id;
  out["version"] = d.version;
  out["object_type"] = std::string(to_string(d.object_type));
  out["name"] = d.name;
  out["label"] = d.label;
  out["type"] = std::string(to_string(d.type));
  out["required"] = d.required;
  out["default"] = to_python(d.default_value);
  out["options"] = d.options;
  out["min"] = d.min ? py::object(py::float_(*d.min)) : py::object(py::none());
  out["max"] = d.max ? py::object(py::float_(*d.max)) : py::object(py::none());
  out["max_length"] = d.max_length ? py::object(py::int_(*d.max_length)) : py::object(py::none());
  out["scale"] = d.scale;
  out["deprecated"] = d.deprecated;
  out["sensitive"] = d.sensitive;
  return out;
}

CustomFieldDefinition definition_of(const py::dict& spec) {
  CustomFieldDefinition d;
  for (auto [key, value] : spec) {
    const std::string name = text_of(key, "field");
    if (name == "object_type") {
      d.object_type = type_named(text_of(value, name));
    } else if (name == "name") {
      d.name = text_of(value, name);
    } else if (name == "label") {
      d.label = value.is_none() ? std::string() : text_of(value, name);
    } else if (name == "type") {
      d.type = parse_custom_field_type(text_of(value, name));
    } else if (name == "required") {
      d.required = flag_of(value, name);
    } else if (name == "default") {
      d.default_value = custom_value_of(value, name);
    } else if (name == "options") {
      for (py::handle o : value) d.options.push_back(text_of(o, name));
    } else if (name == "min" || name == "max") {
      std::optional<double> bound;
      if (!value.is_none()) {
        if (!py::isinstance<py::int_>(value) && !py::isinstance<py::float_>(value))
          throw ValidationError(name + ": expected a number", name);
        bound = value.cast<double>();
      }
      (name == "min" ? d.min : d.max) = bound;
    } else if (name == "max_length") {
      if (!value.is_none()) d.max_length = integer_of(value, name);
    } else if (name == "scale") {
      d.scale = integer_of(value, name);
    } else if (name == "sensitive") {
      d.sensitive = flag_of(value, name);
    } else if (name == "deprecated") {
      d.deprecated = flag_of(value, name);
    } else {
      throw ValidationError(name + ": not part of a custom field definition", name);
    }
  }
  return d;
}

py::list list_fields(const Transaction& tx, const std::optional<std::string>& type) {
  std::optional<ObjectType> of;
  if (type) of = type_named(*type);
  const auto definitions = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.custom_fields(who).list(uow, of);
  });
  py::list out;
  for (const auto& d : definitions) out.append(definition_to_python(d));
  return out;
}

py::dict define_field(const Transaction& tx, const py::dict& spec) {
  const auto definition = definition_of(spec);
  return definition_to_python(in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.custom_fields(who).define(uow, definition);
  }));
}

// change: "rename" (argument: the new name), "deprecate" (True/False), "remove".
py::object change_field(const Transaction& tx, py::handle id_value, const std::string& change,
                        py::handle argument) {
  const Id id = id_of(id_value, "id");
  if (change == "remove") {
    several_steps(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      e.custom_fields(who).remove(uow, id);
    });
    return py::none();
  }
  if (change == "rename") {
    const std::string name = text_of(argument, "name");
    return definition_to_python(several_steps(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return e.custom_fields(who).rename(uow, id, name);
    }));
  }
  const bool deprecated = flag_of(argument, "deprecated");
  return definition_to_python(several_steps(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.custom_fields(who).deprecate(uow, id, deprecated);
  }));
}

// ---- relations ----------------------------------------------------------------------------

py::list company_links(const std::vector<store::ContactCompanyLink>& links) {
  py::list out;
  for (const auto& l : links) out.append(py::make_tuple(l.contact_id, l.company_id, l.primary));
  return out;
}

py::list deal_links(const std::vector<store::DealContactLink>& links) {
  py::list out;
  for (const auto& l : links) {
    const auto role = to_string(l.role);
    out.append(py::make_tuple(l.deal_id, l.contact_id, py::str(role.data(), role.size())));
  }
  return out;
}

py::list refs(const std::vector<ObjectRef>& refs) {
  py::list out;
  for (const auto& r : refs) out.append(ref_to_python(r));
  return out;
}

// What: the RelationService call by name; a, b its two ends; extra the primary flag or role.
py::object relation(const Transaction& tx, const std::string& what, py::handle a, py::handle b,
                    py::handle extra) {
  auto run = [&](auto work) {
    return in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
      return work(e.relations(who), uow);
    });
  };
  using R = const RelationService&;
  using U = store::UnitOfWork&;
  if (what == "link_company" || what == "unlink_company") {
    const Id contact = id_of(a, "contact"), company = id_of(b, "company");
    const bool primary = what == "link_company" && flag_of(extra, "primary");
    return py::bool_(run([&](R r, U u) {
      return what == "link_company" ? r.link_company(u, contact, company, primary)
                                    : r.unlink_company(u, contact, company);
    }));
  }
  if (what == "companies_of" || what == "contacts_of") {
    const Id id = id_of(a, "id");
    return company_links(run([&](R r, U u) {
      return what == "companies_of" ? r.companies_of(u, id) : r.contacts_of(u, id);
    }));
  }
  if (what == "add_deal_contact" || what == "remove_deal_contact") {
    const Id deal = id_of(a, "deal"), contact = id_of(b, "contact");
    const DealRole role =
        what == "add_deal_contact" ? parse_deal_role(text_of(extra, "role")) : DealRole::kOther;
    return py::bool_(run([&](R r, U u) {
      return what == "add_deal_contact" ? r.add_deal_contact(u, deal, contact, role)
                                        : r.remove_deal_contact(u, deal, contact);
    }));
  }
  if (what == "deal_contacts" || what == "deals_of") {
    const Id id = id_of(a, "id");
    return deal_links(run([&](R r, U u) {
      return what == "deal_contacts" ? r.deal_contacts(u, id) : r.deals_of(u, id);
    }));
  }
  if (what == "link_activity" || what == "unlink_activity" || what == "tag" || what == "untag") {
    const Id id = id_of(a, "id");
    const ObjectRef target = ref_of(b);
    return py::bool_(run([&](R r, U u) {
      if (what == "link_activity") return r.link_activity(u, id, target);
      if (what == "unlink_activity") return r.unlink_activity(u, id, target);
      return what == "tag" ? r.tag(u, id, target) : r.untag(u, id, target);
    }));
  }
  if (what == "activity_targets" || what == "tagged_with") {
    const Id id = id_of(a, "id");
    return refs(run([&](R r, U u) {
      return what == "tagged_with" ? r.tagged_with(u, id) : r.activity_targets(u, id);
    }));
  }
  if (what == "activities_of" || what == "tags_of") {
    const ObjectRef target = ref_of(a);
    return py::cast(run([&](R r, U u) {
      return what == "tags_of" ? r.tags_of(u, target) : r.activities_of(u, target);
    }));
  }
  throw ValidationError("unknown relation call " + what, "relation");
}

// ---- search, conversion, merge, deals, events ------------------------------------------

py::list search(const Transaction& tx, const std::string& query,
                const std::vector<std::string>& types, std::size_t limit) {
  store::SearchRequest request;
  request.query = query;
  for (const auto& t : types) request.types.push_back(type_named(t));
  request.limit = limit;
  const auto hits = in_transaction(
      *tx, [&](store::UnitOfWork& uow, Engine& e, Who who) { return e.search(uow, who, request); });
  py::list out;
  for (const auto& h : hits) out.append(py::make_tuple(ref_to_python(h.record), h.title, h.score));
  return out;
}

py::dict convert_lead(const Transaction& tx, py::handle lead, py::handle company, py::handle deal) {
  store::LeadConversion request;
  request.lead_id = id_of(lead, "lead");
  if (!company.is_none()) request.company_id = id_of(company, "company");
  if (!deal.is_none()) {
    if (!py::isinstance<py::dict>(deal)) throw ValidationError("deal: expected a dict", "deal");
    store::LeadConversion::NewDeal spec;
    for (auto [key, value] : py::reinterpret_borrow<py::dict>(deal)) {
      const std::string name = text_of(key, "deal");
      const std::string field = "deal." + name;
      if (name == "pipeline_id") {
        spec.pipeline_id = id_of(value, field);
      } else if (name == "stage_id") {
        spec.stage_id = value.is_none() ? 0 : id_of(value, field);
      } else if (name == "title") {
        spec.title = value.is_none() ? std::string() : text_of(value, field);
      } else if (name == "amount") {
        spec.amount = money_of(value, field);
      } else if (name == "expected_close") {
        if (!value.is_none()) spec.expected_close = date_of(value, field);
      } else if (name == "contact_role") {
        spec.contact_role = parse_deal_role(text_of(value, field));
      } else {
        throw ValidationError(field + ": not part of a conversion's deal", field);
      }
    }
    request.deal = spec;
  }
  const auto result = several_steps(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.convert_lead(uow, who, request);
  });
  py::dict out;
  out["lead"] = record_to_python(result.lead);
  out["contact"] = record_to_python(result.contact);
  out["company"] = record_to_python(result.company);
  out["company_created"] = result.company_created;
  out["deal"] = result.deal ? py::object(record_to_python(*result.deal)) : py::object(py::none());
  return out;
}

py::tuple merge(const Transaction& tx, const std::string& type, py::handle survivor,
                py::handle losers, py::handle winners) {
  store::MergeRequest request;
  request.type = type_named(type);
  request.survivor = id_of(survivor, "survivor");
  for (py::handle loser : losers) request.losers.push_back(id_of(loser, "losers"));
  if (!winners.is_none()) {
    for (auto [field, record] : py::reinterpret_borrow<py::dict>(winners))
      request.winners[text_of(field, "winners")] = id_of(record, "winners");
  }
  const auto result = several_steps(
      *tx, [&](store::UnitOfWork& uow, Engine& e, Who who) { return e.merge(uow, who, request); });
  return py::make_tuple(result.survivor, result.merged);
}

py::list rule_names(const std::vector<store::DuplicateRule>& rules) {
  py::list out;
  for (const auto rule : rules) out.append(std::string(store::to_string(rule)));
  return out;
}

// [(id, [rule, ...]), ...]: the likely duplicates of one record, as the principal may see.
py::list duplicates(const Transaction& tx, const std::string& type, py::handle record) {
  const ObjectRef ref{type_named(type), id_of(record, "record")};
  const auto matches = in_transaction(
      *tx, [&](store::UnitOfWork& uow, Engine& e, Who who) { return e.duplicates(uow, who, ref); });
  py::list out;
  for (const auto& m : matches) out.append(py::make_tuple(m.id, rule_names(m.rules)));
  return out;
}

// [(rule, [id, ...]), ...]: groups of likely duplicates of a type.
py::list duplicate_groups(const Transaction& tx, const std::string& type, std::size_t limit) {
  const ObjectType of = type_named(type);
  const auto groups = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.duplicate_groups(uow, who, of, limit);
  });
  py::list out;
  for (const auto& g : groups) {
    py::list ids;
    for (Id id : g.ids) ids.append(id);
    out.append(py::make_tuple(std::string(store::to_string(g.rule)), ids));
  }
  return out;
}

py::dict reopen_deal(const Transaction& tx, py::handle deal, py::handle stage,
                     std::optional<std::uint64_t> expected_version) {
  const Id id = id_of(deal, "deal");
  std::optional<Id> stage_id;
  if (!stage.is_none()) stage_id = id_of(stage, "stage");
  return record_to_python(in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.reopen_deal(uow, who, id, stage_id, expected_version);
  }));
}

py::list stage_history(const Transaction& tx, py::handle deal) {
  const Id id = id_of(deal, "deal");
  const auto changes = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.stage_history(uow, who, id);
  });
  py::list out;
  for (const auto& c : changes) {
    py::dict d;
    d["deal_id"] = c.deal_id;
    d["from_stage_id"] =
        c.from_stage_id ? py::object(py::int_(*c.from_stage_id)) : py::object(py::none());
    d["to_stage_id"] = c.to_stage_id;
    d["changed_at"] = to_python(c.changed_at);
    d["changed_by"] = c.changed_by ? py::object(py::int_(*c.changed_by)) : py::object(py::none());
    d["seconds_in_previous_stage"] =
        c.time_in_previous_stage
            ? py::object(py::float_(static_cast<double>(c.time_in_previous_stage->count()) / 1e6))
            : py::object(py::none());
    out.append(d);
  }
  return out;
}

py::list amounts(const std::vector<Money>& money) {
  py::list out;
  for (const auto& m : money) out.append(to_python(m));
  return out;
}

py::dict pipeline_summary(const Transaction& tx, py::handle pipeline,
                          const std::optional<std::string>& status) {
  const Id id = id_of(pipeline, "pipeline");
  std::optional<DealStatus> of;
  if (status) of = parse_deal_status(*status);
  const auto summary = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.pipeline_summary(uow, who, id, of);
  });
  py::dict out;
  out["pipeline"] = record_to_python(summary.pipeline);
  out["deals"] = summary.deals;
  out["amount"] = amounts(summary.amount);
  out["weighted_amount"] = amounts(summary.weighted_amount);
  py::list stages;
  for (const auto& s : summary.stages) {
    py::dict d;
    d["stage"] = record_to_python(s.stage);
    d["deals"] = s.deals;
    d["amount"] = amounts(s.amount);
    d["weighted_amount"] = amounts(s.weighted_amount);
    stages.append(d);
  }
  out["stages"] = stages;
  return out;
}

py::dict publish(const Transaction& tx, const std::string& type, py::handle subject,
                 const std::string& payload) {
  const ObjectRef ref = ref_of(subject);
  const auto event = in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.publish(uow, who, type, ref, payload);
  });
  py::dict out;
  out["id"] = event.id;
  out["type"] = event.type;
  out["sequence"] = event.sequence;
  out["subject"] = ref_to_python(ObjectRef{event.aggregate_type, event.aggregate_id});
  out["occurred_at"] = to_python(event.occurred_at);
  out["payload"] = event.payload;
  return out;
}

security::Principal principal_of(const Transaction& tx, py::handle user) {
  const Id id = id_of(user, "user");
  return in_transaction(*tx, [&](store::UnitOfWork& uow, Engine& e, Who who) {
    return e.admin(who).principal_of(uow, id);
  });
}

// Users' access, as an administrator: what is "assign_role", "revoke_role" (role: a name),
// "add_member" (team), "roles_of".
py::object access(const Transaction& tx, const std::string& what, py::handle user,
                  py::handle argument) {
  const Id id = id_of(user, "user");
  auto run = [&](auto work) {
    return in_transaction(
        *tx, [&](store::UnitOfWork& uow, Engine& e, Who who) { return work(e.admin(who), uow); });
  };
  if (what == "roles_of")
    return py::cast(
        run([&](const AdminService& a, store::UnitOfWork& u) { return a.roles_of(u, id); }));
  if (what == "add_member") {
    const Id team = id_of(argument, "team");
    run([&](const AdminService& a, store::UnitOfWork& u) {
      a.add_member(u, team, id);
      return 0;
    });
    return py::none();
  }
  const std::string role = text_of(argument, "role");
  if (what != "assign_role" && what != "revoke_role")
    throw ValidationError("unknown access call " + what, "access");
  run([&](const AdminService& a, store::UnitOfWork& u) {
    if (what == "assign_role") {
      a.assign_role(u, id, role);
    } else {
      a.revoke_role(u, id, role);
    }
    return 0;
  });
  return py::none();
}

}  // namespace

void bind_operations(py::module_& m) {
  m.def("get", &get);
  m.def("find_by_external_id", &find_by_external_id);
  m.def("create", &create);
  m.def("patch", &patch);
  m.def("upsert", &upsert);
  m.def("archive", &archive);
  m.def("remove", &remove);
  m.def("query", &query);
  m.def("count", &count);
  m.def("history", &history);
  m.def("as_of", &as_of);
  m.def("list_fields", &list_fields);
  m.def("define_field", &define_field);
  m.def("change_field", &change_field);
  m.def("relation", &relation);
  m.def("search", &search);
  m.def("convert_lead", &convert_lead);
  m.def("merge", &merge);
  m.def("duplicates", &duplicates);
  m.def("duplicate_groups", &duplicate_groups);
  m.def("reopen_deal", &reopen_deal);
  m.def("stage_history", &stage_history);
  m.def("pipeline_summary", &pipeline_summary);
  m.def("publish", &publish);
  m.def("principal_of", &principal_of);
  m.def("access", &access);
  m.def("record_types", &describe_record_types);
}

}  // namespace banyan::python
