#include "demo_data.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace banyan::demo {
namespace {

using store::Filter;
using store::UnitOfWork;

template <typename T>
T with_key(T record, const std::string& key) {
  record.external_id = "demo-" + key;
  return record;
}

std::string money(std::int64_t minor, const std::string& currency) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%02lld %s", static_cast<long long>(minor / 100),
                static_cast<long long>(minor % 100), currency.c_str());
  return buf;
}

}  // namespace

void load(Engine& engine, const security::Principal& who) {
  engine.database().transact([&](UnitOfWork& uow) {
    Team team;
    team.name = "Sales EMEA";
    team = engine.teams(who).upsert(uow, with_key(team, "team-emea"));
    User grace;
    grace.email = "grace@banyan.example";
    grace.name = "Grace Hopper";
    grace.team_id = team.id;
    grace = engine.users(who).upsert(uow, with_key(grace, "user-grace"));
    User alan;
    alan.email = "alan@banyan.example";
    alan.name = "Alan Turing";
    alan.team_id = team.id;
    alan = engine.users(who).upsert(uow, with_key(alan, "user-alan"));

    // Custom fields: defined at run time, then used like any other field.
    const auto fields = engine.custom_fields(who);
    const auto defined = [&](ObjectType type, const char* name) {
      for (const auto& d : fields.list(uow, type))
        if (d.name == name) return true;
      return false;
    };
    if (!defined(ObjectType::kContact, "tier")) {
      CustomFieldDefinition tier;
      tier.object_type = ObjectType::kContact;
      tier.name = "tier";
      tier.label = "Customer tier";
      tier.type = CustomFieldType::kEnum;
      tier.options = {"bronze", "silver", "gold"};
      tier.default_value = std::string("bronze");
      fields.define(uow, tier);
    }
    if (!defined(ObjectType::kCompany, "arr")) {
      CustomFieldDefinition arr;
      arr.object_type = ObjectType::kCompany;
      arr.name = "arr";
      arr.label = "Annual recurring revenue";
      arr.type = CustomFieldType::kCurrency;
      fields.define(uow, arr);
    }

    Pipeline pipeline;
    pipeline.name = "New business";
    pipeline = engine.pipelines(who).upsert(uow, with_key(pipeline, "pipeline-new"));
    struct StageSpec {
      const char* key;
      const char* name;
      int probability;
      StageKind kind = StageKind::kOpen;
    };
    const StageSpec stage_specs[] = {{"qualify", "Qualification", 10},
                                     {"discover", "Discovery", 25},
                                     {"propose", "Proposal", 50},
                                     {"negotiate", "Negotiation", 75},
                                     {"won", "Closed won", 100, StageKind::kWon},
                                     {"lost", "Closed lost", 0, StageKind::kLost}};
    std::map<std::string, Id> stages;
    int position = 1;
    for (const StageSpec& s : stage_specs) {
      Stage stage;
      stage.pipeline_id = pipeline.id;
      stage.name = s.name;
      stage.position = position++;
      stage.win_probability = s.probability;
      stage.kind = s.kind;
      stages[s.key] =
          engine.stages(who).upsert(uow, with_key(stage, std::string("stage-") + s.key)).id;
    }

    struct CompanySpec {
      const char* key;
      const char* name;
      const char* domain;
      const char* industry;
      std::int64_t employees;
      std::int64_t arr_dollars;
    };
    const CompanySpec company_specs[] = {
        {"acme", "Acme Corp", "acme.example", "Manufacturing", 1200, 480000},
        {"globex", "Globex", "globex.example", "Energy", 5400, 2150000},
        {"initech", "Initech", "initech.example", "Software", 320, 96000},
        {"umbrella", "Umbrella Health", "umbrella.example", "Healthcare", 880, 310000}};
    std::map<std::string, Id> companies;
    for (const CompanySpec& c : company_specs) {
      Company company;
      company.name = c.name;
      company.domain = c.domain;
      company.industry = c.industry;
      company.employee_count = c.employees;
      company.owner_id = grace.id;
      company.team_id = team.id;
      company.custom = {{"arr", Money{c.arr_dollars * 100, "USD"}}};
      companies[c.key] =
          engine.companies(who).upsert(uow, with_key(company, std::string("company-") + c.key)).id;
    }

    struct ContactSpec {
      const char* key;
      const char* first;
      const char* last;
      const char* company;
      const char* title;
      const char* tier;
    };
    const ContactSpec contact_specs[] = {
        {"ada", "Ada", "Lovelace", "acme", "CTO", "gold"},
        {"charles", "Charles", "Babbage", "acme", "Head of Procurement", "silver"},
        {"hedy", "Hedy", "Lamarr", "globex", "VP Engineering", "gold"},
        {"katherine", "Katherine", "Johnson", "initech", "CFO", "bronze"},
        {"margaret", "Margaret", "Hamilton", "umbrella", "Director of IT", "silver"},
        {"tim", "Tim", "Berners-Lee", "globex", "Architect", "silver"}};
    std::map<std::string, Id> contacts;
    for (const ContactSpec& c : contact_specs) {
      Contact contact;
      contact.first_name = c.first;
      contact.last_name = c.last;
      contact.email = std::string(c.key) + "@" + company_specs[0].domain;
      for (const CompanySpec& co : company_specs)
        if (std::string(co.key) == c.company) contact.email = std::string(c.key) + "@" + co.domain;
      contact.title = c.title;
      contact.owner_id = alan.id;
      contact.team_id = team.id;
      contact.custom = {{"tier", std::string(c.tier)}};
      Id id =
          engine.contacts(who).upsert(uow, with_key(contact, std::string("contact-") + c.key)).id;
      contacts[c.key] = id;
      engine.relations(who).link_company(uow, id, companies[c.company], /*primary=*/true);
    }

    struct DealSpec {
      const char* key;
      const char* title;
      const char* company;
      const char* stage;
      std::int64_t amount;
      const char* champion;
    };
    const DealSpec deal_specs[] = {
        {"acme-fleet", "Acme fleet rollout", "acme", "negotiate", 12000000, "ada"},
        {"acme-support", "Acme premium support", "acme", "propose", 2400000, "charles"},
        {"globex-pilot", "Globex pilot", "globex", "discover", 4500000, "hedy"},
        {"globex-platform", "Globex platform", "globex", "qualify", 30000000, "tim"},
        {"initech-renewal", "Initech renewal", "initech", "won", 1800000, "katherine"},
        {"umbrella-clinics", "Umbrella clinics", "umbrella", "propose", 7600000, "margaret"},
        {"umbrella-labs", "Umbrella labs add-on", "umbrella", "qualify", 950000, "margaret"}};
    for (const DealSpec& d : deal_specs) {
      Deal deal;
      deal.title = d.title;
      deal.pipeline_id = pipeline.id;
      deal.stage_id = stages[d.stage];
      deal.amount = Money{d.amount, "USD"};
      deal.expected_close = std::chrono::year{2027} / 3 / 31;
      deal.company_id = companies[d.company];
      deal.status = std::string(d.stage) == "won" ? DealStatus::kWon : DealStatus::kOpen;
      deal.owner_id = grace.id;
      deal.team_id = team.id;
      Id id = engine.deals(who).upsert(uow, with_key(deal, std::string("deal-") + d.key)).id;
      engine.relations(who).add_deal_contact(uow, id, contacts[d.champion], DealRole::kChampion);
    }

    Activity call;
    call.kind = ActivityKind::kCall;
    call.subject = "Pricing call with Ada";
    call.owner_id = grace.id;
    Id call_id = engine.activities(who).upsert(uow, with_key(call, "activity-call-ada")).id;
    engine.relations(who).link_activity(uow, call_id, {ObjectType::kContact, contacts["ada"]});
    engine.relations(who).link_activity(uow, call_id, {ObjectType::kCompany, companies["acme"]});

    // A lead that came in through the web site, converted into a contact, its company
    // (matched by the email domain) and a new deal.
    Lead lead;
    lead.first_name = "Grace";
    lead.last_name = "Brewster";
    lead.email = "grace.brewster@umbrella.example";
    lead.company_name = "Umbrella Health";
    lead.source = "web";
    lead.status = LeadStatus::kQualified;
    lead.owner_id = alan.id;
    const auto leads = engine.leads(who);
    if (leads.count(uow, Filter::eq("external_id", "demo-lead-grace")) == 0) {
      lead = leads.create(uow, with_key(lead, "lead-grace"));
      store::LeadConversion conversion;
      conversion.lead_id = lead.id;
      conversion.deal = store::LeadConversion::NewDeal{pipeline.id,
                                                       stages["discover"],
                                                       "Umbrella research wing",
                                                       Money{2200000, "USD"},
                                                       std::chrono::year{2027} / 6 / 30,
                                                       DealRole::kDecisionMaker};
      engine.convert_lead(uow, who, conversion);
    }

    Tag vip;
    vip.name = "vip";
    vip.color = "#d4a017";
    Id vip_id = engine.tags(who).upsert(uow, with_key(vip, "tag-vip")).id;
    engine.relations(who).tag(uow, vip_id, {ObjectType::kCompany, companies["globex"]});
    engine.relations(who).tag(uow, vip_id, {ObjectType::kContact, contacts["hedy"]});
  });
}

void print_pipeline_summary(Engine& engine, const security::Principal& who, std::ostream& out) {
  engine.database().read([&](UnitOfWork& uow) {
    store::PageRequest all_pipelines;
    all_pipelines.limit = 1000;
    for (const Pipeline& p : engine.pipelines(who).query(uow, all_pipelines).items) {
      const store::PipelineSummary summary = engine.pipeline_summary(uow, who, p.id);
      out << "Pipeline: " << p.name << "\n";
      char line[200];
      std::snprintf(line, sizeof line, "  %-20s %5s %22s %22s\n", "stage", "deals", "amount",
                    "weighted");
      out << line;
      auto row = [&](const std::string& name, std::uint64_t deals, const std::vector<Money>& amount,
                     const std::vector<Money>& weighted) {
        // One line per currency; a stage without deals still shows.
        const std::size_t lines = std::max<std::size_t>(1, amount.size());
        for (std::size_t i = 0; i < lines; ++i) {
          const std::string a =
              i < amount.size() ? money(amount[i].minor_units, amount[i].currency) : "-";
          const std::string w =
              i < weighted.size() ? money(weighted[i].minor_units, weighted[i].currency) : "-";
          std::snprintf(line, sizeof line, "  %-20s %5s %22s %22s\n", i == 0 ? name.c_str() : "",
                        i == 0 ? std::to_string(deals).c_str() : "", a.c_str(), w.c_str());
          out << line;
        }
      };
      for (const store::StageSummary& s : summary.stages)
        row(s.stage.name + " (" + std::to_string(s.stage.win_probability) + "%)", s.deals, s.amount,
            s.weighted_amount);
      row("total", summary.deals, summary.amount, summary.weighted_amount);
    }
  });
}

void print_custom_field_report(Engine& engine, const security::Principal& who, std::ostream& out) {
  engine.database().read([&](UnitOfWork& uow) {
    const auto contacts = engine.contacts(who);
    out << "Contacts by tier (custom field):";
    for (const char* tier : {"gold", "silver", "bronze"})
      out << ' ' << tier << ' ' << contacts.count(uow, Filter::eq("custom.tier", tier));
    store::PageRequest top;
    top.sort = {"custom.arr", true};
    top.limit = 1;
    auto page = engine.companies(who).query(uow, top);
    if (!page.items.empty()) {
      const Company& c = page.items.front();
      const Money& arr = std::get<Money>(c.custom.at("arr"));
      out << "\nLargest ARR (custom field): " << c.name << ", "
          << money(arr.minor_units, arr.currency);
    }
    out << '\n';
  });
}

void print_converted_leads(Engine& engine, const security::Principal& who, std::ostream& out) {
  engine.database().read([&](UnitOfWork& uow) {
    store::PageRequest converted;
    converted.filter = Filter::eq("status", "converted");
    converted.limit = 1000;
    for (const Lead& l : engine.leads(who).query(uow, converted).items) {
      const Contact c = engine.contacts(who).get(uow, *l.converted_contact_id);
      const Company co = engine.companies(who).get(uow, *l.converted_company_id);
      out << "Converted lead: " << l.first_name << ' ' << l.last_name << " -> contact " << c.id
          << " at " << co.name;
      if (l.converted_deal_id)
        out << ", deal \"" << engine.deals(who).get(uow, *l.converted_deal_id).title << '"';
      out << '\n';
    }
  });
}

}  // namespace banyan::demo
