"""Banyan from Python in a dozen lines: open, create, query, change in a transaction.

    python3 examples/python/quickstart.py [DATABASE_URL]
"""

import sys
import tempfile

import banyan
from banyan import F

url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite://{tempfile.mkdtemp()}/quickstart.db"
with banyan.open(url) as db:
    crm = db.engine()  # the system principal: a trusted script
    crm.custom_fields.define("contact", "tier", "enum", options=["gold", "silver"])
    ada = crm.contacts.create(first_name="Ada", last_name="Lovelace", email="ada@example.com",
                              custom={"tier": "gold"})
    crm.contacts.create(first_name="Grace", last_name="Hopper")
    with crm.transaction() as tx:  # commits here, or rolls back on an exception
        acme = tx.companies.create(name="Analytical Engines Ltd", domain="engines.example")
        tx.relations.link_company(ada, acme, primary=True)
        tx.contacts.patch(ada, title="Countess")
    for c in crm.contacts.query(F.last_name.startswith("lo") & ~F.email.is_null()):
        print(c.first_name, c.last_name, c.title, c.custom)
    print(crm.contacts.count(), "contacts;", [h.title for h in crm.search("ada")])
