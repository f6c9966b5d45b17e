// The demo data set, written the way an application embeds Banyan: every read and write
// goes through banyan::Engine as a principal. `banyan demo` and `banyan-server --demo` load
// it; `banyan demo` and `banyan summary` print these reports.
#pragma once

#include <ostream>

#include "banyan/engine.hpp"
#include "banyan/security/principal.hpp"

namespace banyan::demo {

// Loads a small CRM (a team, users, custom fields, companies, contacts, a pipeline with
// deals, an activity, a converted lead, tags) as `who`, who must be allowed to write all of
// it (the system principal is). Idempotent: every record carries a "demo-..." external id
// and is upserted, and the lead is converted once.
void load(Engine& engine, const security::Principal& who);

// Each pipeline `who` may read, its stages with deal count, total and weighted amount, of
// the deals `who` may read.
void print_pipeline_summary(Engine& engine, const security::Principal& who, std::ostream& out);

// Contacts counted by a custom field, and the company with the largest custom ARR.
void print_custom_field_report(Engine& engine, const security::Principal& who, std::ostream& out);

// The leads converted so far and what each became.
void print_converted_leads(Engine& engine, const security::Principal& who, std::ostream& out);

}  // namespace banyan::demo
