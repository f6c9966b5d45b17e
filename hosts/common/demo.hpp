// The demo data set and the pipeline summary the CLI prints.
#pragma once

#include <ostream>

#include "banyan/engine.hpp"
#include "banyan/store/database.hpp"

namespace banyan::host {

// Loads a small CRM (team, users, companies, contacts, a pipeline with deals, activities,
// tags). Idempotent: every record carries a "demo-..." external id and is upserted.
void load_demo_data(store::Database& db);

// Prints each pipeline's stages with deal count, total and weighted amount, of the
// deals `who` may read.
void print_pipeline_summary(Engine& engine, const security::Principal& who, std::ostream& out);

// Prints counts and a top record found through custom fields.
void print_custom_field_report(store::Database& db, std::ostream& out);

// Prints the leads converted so far and what each became.
void print_converted_leads(store::Database& db, std::ostream& out);

}  // namespace banyan::host
