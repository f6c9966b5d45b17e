// Embedding Banyan: open a store, write through the Engine as a principal in a unit of
// work, query a page.
//
//   quickstart [path/to/crm.db]
#include <banyan/banyan.hpp>

#include <iostream>

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "quickstart.db";
  try {
    auto db = banyan::store::Database::open("sqlite://" + path);
    banyan::Engine engine(*db);  // checks every use case against the caller's roles
    // Trusted code acts as the system principal ("system" in the audit trail); a user's
    // request acts as that user (engine.admin(system).principal_of(uow, user_id)).
    const auto me = banyan::security::Principal::system();

    banyan::Id ada = db->transact([&](banyan::store::UnitOfWork& uow) {
      banyan::Company acme;
      acme.name = "Acme Corp";
      acme.domain = "acme.example";
      acme = engine.companies(me).create(uow, acme);

      banyan::Contact c;
      c.first_name = "Ada";
      c.last_name = "Lovelace";
      c.email = "ada@acme.example";
      c = engine.contacts(me).create(uow, c);
      engine.relations(me).link_company(uow, c.id, acme.id, /*primary=*/true);
      return c.id;
    });

    db->transact([&](banyan::store::UnitOfWork& uow) {
      banyan::store::PageRequest request;
      request.filter = banyan::store::Filter::starts_with("email", "ada@");
      request.sort = {"last_name", false};
      for (const banyan::Contact& c : engine.contacts(me).query(uow, request).items) {
        std::cout << "contact " << c.id << ": " << c.first_name << ' ' << c.last_name << " <"
                  << *c.email << ">\n";
      }
      std::cout << "companies of contact " << ada << ": "
                << engine.relations(me).companies_of(uow, ada).size() << '\n';
    });
  } catch (const banyan::Error& e) {
    std::cerr << "error (" << banyan::to_string(e.code()) << "): " << e.what() << '\n';
    return 1;
  }
  return 0;
}
