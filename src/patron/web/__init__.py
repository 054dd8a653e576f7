"""Web layer: routers parse, call the domain, render. No SQL and no business rules here."""
